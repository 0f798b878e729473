"""Local mode: input speech end -> first reply sample written, minus the endpoint silence,
with faster-whisper and with pocketsphinx, on this machine and on a Pi 4 approximation
(with the playback's underruns and late writes there).

Each run is the real hub in local mode (always listening) in a child process, fed spoken
questions (flite voices) in real time through the FIFO-paced file-plugin microphone;
the speech end is measured in the input (``tests.bench.inputs``), the first reply write
is stamped by the probed playback. Ten seconds after each question let its answer
(up to ~7 s of the offline refusal) play out before the next.

Pi 4 approximation: four Cortex-A72 cores, each about 0.45 of one core of this machine,
so ~1.8 cores of work; this machine has two, so the child (and its decoder process) gets
a CPU-bandwidth quota of 1.8 cores over both (cgroup cfs quota, see
``bench_stt_realspeech.PI4``) and whisper the four threads it would use on the Pi. The
budget is approximated; the Pi's four-way parallelism is not (two real cores).

    .venv/bin/python -m tests.bench.bench_local [--turns N] [--profile here|pi4|both]
        [--engine faster_whisper|pocketsphinx] [--speculate-ms MS]
"""

from __future__ import annotations

import argparse
import json
import os

from tests.bench import figures as fg
from tests.bench.bench_stt_realspeech import PI4, PI4_THREADS
from tests.bench.cpulimit import CpuLimit
from tests.bench.harness import ALWAYS_LISTENING, ChildRun, Scenario, run_scenario
from tests.bench.inputs import InputBuilder
from tests.bench.report import Figure, figure
from tests.bench.stats import percentile

ENGINES = ("faster_whisper", "pocketsphinx")
GOAL_AFTER_ENDPOINT_MS = 250.0
ANSWER_GAP_S = 10.0  # the longest local answer (the refusal) plays out before the next
# Requests local mode answers (its skills). One no skill takes gets the offline refusal
# after a deliberate 0.5 s more, in case the user goes on ("set a timer for ... ten
# minutes"): that wait is the design, not the pipeline's speed, so it is not measured here.
LOCAL_QUESTIONS = (
    ("What time is it?", "kal16"),
    ("Set a timer for ten minutes please.", "awb"),
    ("What's the date today?", "slt"),
    ("What day is it?", "rms"),
)


def local_conversation(turns: int, engine: str, threads: int,
                       speculate_ms: int | None = None) -> Scenario:
    builder = InputBuilder()
    for index in range(turns):
        text, voice = LOCAL_QUESTIONS[index % len(LOCAL_QUESTIONS)]
        builder.say(text, voice)
        builder.pause(ANSWER_GAP_S)
    speculate = "" if speculate_ms is None else f", speculate_after_ms: {speculate_ms}"
    config = (f"mode: local\n{ALWAYS_LISTENING}"
              f"local: {{stt: {{engine: {engine}, threads: {threads}{speculate}}}}}\n")
    return Scenario(f"local-{engine}", builder.pcm(), builder.marks, config)


def local_run(turns: int, engine: str, limit: CpuLimit | None,
              speculate_ms: int | None = None) -> ChildRun:
    threads = PI4_THREADS if limit is not None else 0
    return run_scenario(local_conversation(turns, engine, threads, speculate_ms), limit)


def engine_figures(run: ChildRun, engine: str, suffix: str, key: str) -> list[Figure]:
    added = fg.voice_to_voice(run)
    out = [figure(f"local_first_audio_{engine}{key}",
                  f"local mode, {engine}: speech end -> first reply audio{suffix}",
                  added["added"], "ms", goal_median=GOAL_AFTER_ENDPOINT_MS,
                  note=f"input speech end -> first reply sample written - {run.endpoint_ms} "
                       f"ms endpoint; VAD lag median "
                       f"{_median(added['vad_lag']):.0f} ms of it; {run.limit}")]
    if key:  # the CPU-limited profile: does the audio keep flowing?
        underruns = run.child["records"]["counters"].get("playback_underruns", 0)
        gaps = fg.playback_gaps(run)
        out += [
            figure(f"local_underruns_{engine}{key}", f"local mode, {engine}: playback "
                   f"underruns{suffix}", [float(underruns)], "count", goal_median=0,
                   keep_samples=False, note="file-plugin devices never report EPIPE, "
                                            "see the late writes"),
            figure(f"local_late_writes_{engine}{key}", f"local mode, {engine}: late period "
                   f"writes{suffix}", [float(len(gaps))], "count", goal_median=0,
                   keep_samples=False, note=f"longest {max(gaps, default=0.0):.1f} ms"),
        ]
    return out


def run(turns: int, profiles: tuple[str, ...] = ("here", "pi4"),
        engines: tuple[str, ...] = ENGINES, speculate_ms: int | None = None
        ) -> tuple[list[Figure], dict[str, object]]:
    figures: list[Figure] = []
    details: dict[str, object] = {}
    for profile in profiles:
        limit = PI4 if profile == "pi4" else None
        suffix, key = (" (Pi 4 approx.)", "_pi4") if limit else ("", "")
        for engine in engines:
            done = local_run(turns, engine, limit, speculate_ms)
            figures += engine_figures(done, engine, suffix, key)
            details[f"local_{engine}{key}_answers"] = done.child["records"]["counters"].get(
                "responses", 0)
            details[f"local_{engine}{key}_limit"] = done.limit
    return figures, details


def _median(values: list[float]) -> float:
    return percentile(values, 50) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--profile", choices=("here", "pi4", "both"), default="both")
    parser.add_argument("--engine", choices=ENGINES, help="only this one")
    parser.add_argument("--speculate-ms", type=int, help="local.stt.speculate_after_ms "
                        "(0: decode only at the turn's end, as before issue 18)")
    args = parser.parse_args()
    profiles = ("here", "pi4") if args.profile == "both" else (args.profile,)
    print(f"load average at start: {os.getloadavg()}")
    figures, details = run(args.turns, profiles, (args.engine,) if args.engine else ENGINES,
                           args.speculate_ms)
    for f in figures:
        print(f"{f.label}: {f.summary} [{f.verdict}]  {f.note}")
    print(json.dumps({"details": details, "samples": {f.key: f.samples for f in figures}}))
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
