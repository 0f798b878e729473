"""Wake latency through the whole hub: end of the spoken wake phrase -> the hub acts on it.

The real hub (realtime mode, default triggers: the okay_nabu wake word) hears
"okay nabu" spoken by every flite voice at three speaking rates, each followed by
silence long enough for the listen timeout to bring it back to IDLE. The figure runs
from the phrase's measured speech end (its position in the real-time input) to the
Controller's change to LISTENING for that wake word: the same handler asks Playback
for the listening earcon and opens the mic, so that is the moment the hub acts (the
earcon's first sample reaching the device adds the playback hop, measured elsewhere).
It is split at the wake word's decision (the Listener's detector returning it):
detector lag behind the phrase end, and the hand-over to the Controller.

    .venv/bin/python -m tests.bench.bench_wake_hub
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.bench.bench_wake import PHRASES, STRETCHES, spoken
from tests.bench.harness import ChildRun, Mark, Scenario, run_scenario
from tests.bench.inputs import END_FLOOR_DB, IDLE_CONFIG, LEAD_S
from tests.bench.report import Figure, figure
from tests.local.speech import FLITE_VOICES, concat, silence, speech_span

MODEL = "okay_nabu"
GAP_S = 3.5  # after each phrase: its turn and answer, or the listen timeout (1 s)
# no follow-up window: the answer to the phrase (the fake server answers every turn) ends
# in IDLE, so the next phrase wakes the hub again
CONFIG = IDLE_CONFIG + "conversation: {listen_timeout_s: 1.0, follow_up_s: 0}\n"
LATE_NS = 1_500_000_000  # a LISTENING this long after a phrase's end is not its wake


def wake_phrases(lead_s: float = LEAD_S) -> Scenario:
    """The wake phrase by every flite voice at every speaking rate, ``GAP_S`` apart."""
    parts = [silence(lead_s * 1000)]
    ms = lead_s * 1000
    marks: list[Mark] = []
    with tempfile.TemporaryDirectory(prefix="maigic-bench-wakehub-") as tmp:
        for voice in FLITE_VOICES:
            for stretch in STRETCHES:
                clip = concat(spoken(PHRASES[MODEL], voice, stretch, Path(tmp)))
                marks.append(Mark("end", ms + float(speech_span(clip, END_FLOOR_DB)[1]) * 1000))
                parts += [clip, silence(GAP_S * 1000)]
                ms += (clip.duration_ms or 0.0) + GAP_S * 1000
    return Scenario("wake-hub", concat(*parts).data, marks, CONFIG)


def latencies(run: ChildRun) -> tuple[list[float], list[float], int]:
    """Per detected phrase: (phrase end -> LISTENING, phrase end -> detector decided) in
    seconds, and how many phrases were tried."""
    records = run.child["records"]
    opened = sorted(at for state, cause, at in records["states"]
                    if state == "listening" and "wake word" in cause)
    decided = sorted(at for _found_at, at in records["wakes"])
    ends = [run.input_ns(mark.ms) for mark in run.scenario.marks if mark.kind == "end"]
    to_state: list[float] = []
    to_detector: list[float] = []
    for end in ends:
        state = next((at for at in opened if end - LATE_NS < at < end + LATE_NS), None)
        if state is None:
            continue
        to_state.append((state - end) / 1e9)
        detected = next((at for at in decided if end - LATE_NS < at <= state), None)
        if detected is not None:
            to_detector.append((detected - end) / 1e9)
    return to_state, to_detector, len(ends)


def run() -> tuple[list[Figure], dict[str, object]]:
    hub = run_scenario(wake_phrases())
    to_state, to_detector, tried = latencies(hub)
    note = (f"{len(to_state)} of {tried} flite phrases woke the hub ({MODEL}; "
            f"{len(FLITE_VOICES)} voices x {len(STRETCHES)} speaking rates); {hub.limit}")
    figures = [
        figure("wake_hub_latency", "wake: phrase end -> hub LISTENING (earcon requested)",
               to_state, "s", goal_median=0.10, note=note),
        figure("wake_hub_detector", "wake: phrase end -> detector decided (in the hub)",
               to_detector, "s", note=note),
    ]
    return figures, {"wake_hub_detected": len(to_state), "wake_hub_tried": tried}


if __name__ == "__main__":
    found, info = run()
    for f in found:
        print(f"{f.label}: {f.summary} [{f.verdict}] {f.note}")
    json.dump({"figures": [f.as_json() for f in found], "details": info}, sys.stdout, indent=1)
    print()
