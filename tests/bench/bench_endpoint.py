"""Where the hub decides that speech ended, on real speech: latency and false endpoints.

Runs exactly the parts the hub's Listener uses (WebRTC VAD, segmenter, endpointer; the
hub's default vad.* and endpoint settings; 20 ms chunks) over

- **ends**: flite's four voices saying the benchmark's questions and interruptions and
  the five human "cards" recordings, each after 1.5 s of room noise and followed by 1.5
  s of it: digital silence, or pink noise at -60 / -55 / -50 dBFS. The true end is the
  clean clip's last 10 ms frame within 40 dB of its peak (flite, as tests/bench/inputs.py
  counts it) or 30 dB (the human recordings: their own noise is ~40 dB under the peak);
- **pauses**: two sentences joined by a pause of 300 / 450 / 600 ms inside one turn
  (LibriVox and cards recordings, flite sentences), over pink noise at -60 and -50 dBFS.
  A turn *ended too early* is one the endpointer closed before its last word.

for the VAD's own end (the old behaviour) and for energy end rules (the default and a
sweep around it), and prints for each: speech end -> end estimate, speech end -> turn
ended (minus the endpoint), the share of ends estimated more than 20 ms early, and the
false-endpoint rate. Speech starts (what a barge-in acts on) must be identical for
every rule; the bench checks it.

    .venv/bin/python -m tests.bench.bench_endpoint

Writes tests/bench/results/endpoint.json. Pure computation: the load changes nothing
measured.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivers.local.segmenter import Endpointer, SpeechSegmenter, SpeechStarted, SpeechStopped
from drivers.local.speech_end import EndRule
from drivers.local.vad import WebRtcVad
from speech_api import AudioChunk
from tests.bench.inputs import END_FLOOR_DB, INTERRUPTIONS, ONSET_FLOOR_DB, QUESTIONS
from tests.bench.report import Figure, figure
from tests.local.speech import at_rate, cards, flite, librivox, over_room_noise, speech_span

RESULTS = Path(__file__).parent / "results" / "endpoint.json"
RATE = 16000
ENDPOINT_MS = 700  # conversation.endpoint_silence_ms's default
FLOORS_DBFS: tuple[float | None, ...] = (None, -60.0, -55.0, -50.0)  # None: digital silence
PAUSE_FLOORS_DBFS = (-60.0, -50.0)
PAUSES_MS = (300, 450, 600)
HUMAN_END_DB = 30.0  # the recordings' own noise is ~40 dB under their peak
VOICES = ("kal16", "slt", "rms", "awb")
SENTENCES = ("what is the weather like tomorrow", "set a timer for ten minutes",
             "and what about the day after", "tell me more about that")
EARLY_MS = 20.0  # an end estimated this much before the true end cuts into the word
BEFORE = "VAD end (before)"
DEFAULT = "energy end (default)"
RULES: dict[str, EndRule | None] = {
    BEFORE: None,
    DEFAULT: EndRule(),
    "peak-30 dB": EndRule(below_peak_db=30.0),
    "peak-50 dB": EndRule(below_peak_db=50.0),
    "floor+6 dB": EndRule(above_floor_db=6.0),
    "floor+10 dB": EndRule(above_floor_db=10.0),
    "floor+15 dB": EndRule(above_floor_db=15.0),
    "back-date <= 150 ms": EndRule(max_backdate_ms=150.0),
}


@dataclass(frozen=True)
class Run:
    starts: tuple[int, ...]  # SpeechStarted.at_ns
    stops: tuple[tuple[int, int], ...]  # (SpeechStopped.at_ns, decided at: chunk end ns)


def listen(audio: AudioChunk, rule: EndRule | None) -> Run:
    """The Listener's endpointer over ``audio`` in 20 ms chunks (the hub's defaults)."""
    segmenter = SpeechSegmenter(WebRtcVad(sample_rate=RATE), start_ms=60, hangover_ms=300,
                                min_speech_ms=150, end_rule=rule)
    endpointer = Endpointer(segmenter, ENDPOINT_MS)
    starts: list[int] = []
    stops: list[tuple[int, int]] = []
    for chunk in audio.split(20):
        decided = chunk.captured_at_ns + round((chunk.duration_ms or 0.0) * 1e6)
        for event in endpointer.feed(chunk):
            if isinstance(event, SpeechStarted):
                starts.append(event.at_ns)
            elif isinstance(event, SpeechStopped):
                stops.append((event.at_ns, decided))
    return Run(tuple(starts), tuple(stops))


def mixed(parts: list[np.ndarray], floor_dbfs: float | None, seed: int) -> AudioChunk:
    """``parts`` (16 kHz samples) joined, over pink noise at ``floor_dbfs`` (None: zeros)."""
    return over_room_noise(np.concatenate(parts), floor_dbfs, seed, RATE)


def samples(clip: AudioChunk) -> np.ndarray:
    return at_rate(clip, RATE).to_numpy()[:, 0].astype(np.float64)


def gap(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


def end_clips() -> list[tuple[str, np.ndarray, float]]:
    """(name, samples, true end in seconds from the clip's start)."""
    texts = [text for text, _voice in (*QUESTIONS, *INTERRUPTIONS)]
    out = []
    for voice in VOICES:
        for text in dict.fromkeys(texts):
            clip = flite(text, voice)
            out.append((f"flite {voice}: {text}", samples(clip),
                        speech_span(clip, END_FLOOR_DB)[1]))
    for name, clip, _text in cards():
        out.append((f"cards {name}", samples(clip), speech_span(clip, HUMAN_END_DB)[1]))
    return out


def spoken(clip: AudioChunk, end_db: float) -> np.ndarray:
    """The clip's speech only: the recordings' own leading and trailing quiet would
    lengthen the pause between the sentences."""
    start_s = speech_span(clip, ONSET_FLOOR_DB)[0]
    end_s = speech_span(clip, end_db)[1]
    return samples(clip)[int(start_s * RATE):int(end_s * RATE)]


def pause_turns() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, its first sentence, its second sentence), each trimmed to its speech."""
    sentences = [(f"librivox {n[-4:]}", spoken(c, HUMAN_END_DB)) for n, c, _t in librivox()]
    sentences += [(f"cards {n}", spoken(c, HUMAN_END_DB)) for n, c, _t in cards()]
    sentences += [(f"flite {v}: {t}", spoken(flite(t, v), END_FLOOR_DB))
                  for v in VOICES for t in SENTENCES[:2]]
    return [(f"{name} + {sentences[(i + 1) % len(sentences)][0]}", first,
             sentences[(i + 1) % len(sentences)][1])
            for i, (name, first) in enumerate(sentences)]


@dataclass
class Tally:
    end_error_ms: list[float]  # end estimate - true end
    decided_ms: list[float]  # turn ended - true end - endpoint
    turns: int = 0
    ended_early: int = 0
    starts: list[tuple[int, ...]] | None = None  # per single clip
    floors: list[float | None] = field(default_factory=list)  # per end_error_ms


def measure(rules: dict[str, EndRule | None]) -> dict[str, Tally]:
    tallies = {name: Tally([], [], starts=[]) for name in rules}
    seed = 0
    lead_ms = 1500.0
    for _name, x, true_end_s in end_clips():
        for floor in FLOORS_DBFS:
            seed += 1
            audio = mixed([gap(lead_ms), x, gap(1500)], floor, seed)
            true_end_ns = round((lead_ms / 1000 + true_end_s) * 1e9)
            for rule_name, rule in rules.items():
                run, tally = listen(audio, rule), tallies[rule_name]
                assert tally.starts is not None
                tally.starts.append(run.starts)
                if run.stops:
                    tally.floors.append(floor)
                    at_ns, decided = run.stops[-1]
                    tally.end_error_ms.append((at_ns - true_end_ns) / 1e6)
                    tally.decided_ms.append((decided - true_end_ns) / 1e6 - ENDPOINT_MS)
    for _name, first, second in pause_turns():
        for pause in PAUSES_MS:
            for floor in PAUSE_FLOORS_DBFS:
                seed += 1
                audio = mixed([gap(lead_ms), first, gap(pause), second, gap(1500)], floor,
                              seed)
                last_word_ns = round(((lead_ms + pause) / 1000
                                      + (len(first) + len(second)) / RATE) * 1e9)
                for rule_name, rule in rules.items():
                    run, tally = listen(audio, rule), tallies[rule_name]
                    tally.turns += 1
                    tally.ended_early += any(decided < last_word_ns for _at, decided in run.stops)
    return tallies


def summary(tally: Tally) -> dict[str, float]:
    errors = np.array(tally.end_error_ms)
    decided = np.array(tally.decided_ms)
    return {
        "ends": len(errors),
        "end_error_median_ms": round(float(np.median(errors)), 1),
        "end_error_p90_ms": round(float(np.percentile(errors, 90)), 1),
        "ends_early_share": round(float(np.mean(errors < -EARLY_MS)), 3),
        "decided_after_endpoint_median_ms": round(float(np.median(decided)), 1),
        "pause_turns": tally.turns,
        "ended_too_early": tally.ended_early,
        "false_endpoint_rate": round(tally.ended_early / max(1, tally.turns), 3),
    }


def run() -> tuple[list[Figure], dict[str, object]]:
    """For run_all: the default rule's figures, the old behaviour's in the notes (~20 s)."""
    return report(measure({name: RULES[name] for name in (BEFORE, DEFAULT)}))


def report(tallies: dict[str, Tally]) -> tuple[list[Figure], dict[str, object]]:
    table = {name: summary(t) for name, t in tallies.items()}
    old, new = table[BEFORE], table[DEFAULT]
    starts_same = all(t.starts == tallies[BEFORE].starts for t in tallies.values())
    figures = [
        figure("endpoint_end_error", "speech end -> end estimate (offline, real speech)",
               tallies[DEFAULT].end_error_ms, "ms", keep_samples=False,
               note=f"the VAD's own end: median {old['end_error_median_ms']} ms; ends > "
                    f"{EARLY_MS:.0f} ms early: {new['ends_early_share']:.1%} "
                    f"(before {old['ends_early_share']:.1%})"),
        figure("endpoint_decided", "speech end -> turn ended, minus the endpoint (offline)",
               tallies[DEFAULT].decided_ms, "ms", keep_samples=False,
               note=f"before: median {old['decided_after_endpoint_median_ms']} ms"),
        figure("endpoint_false", "false endpoints: turns ended in a 300-600 ms pause",
               [100 * new["false_endpoint_rate"]], "%", keep_samples=False,
               note=f"{new['ended_too_early']} of {new['pause_turns']} two-sentence turns "
                    f"(before: {old['ended_too_early']}); speech starts, which barge-in acts "
                    f"on, identical to before: {'yes' if starts_same else 'NO'}"),
    ]
    return figures, {"endpoint": {"rules": table, "starts_identical": starts_same}}


def main() -> int:
    tallies = measure(RULES)
    figures, details = report(tallies)
    info = details["endpoint"]
    assert isinstance(info, dict)
    table = info["rules"]
    print(f"{'rule':<22} {'ends':>4} {'err med':>8} {'err p90':>8} {'early':>6} "
          f"{'decided-endpoint':>17} {'false endpoints':>16}")
    for name, row in table.items():
        print(f"{name:<22} {row['ends']:>4} {row['end_error_median_ms']:>8} "
              f"{row['end_error_p90_ms']:>8} {row['ends_early_share']:>6.1%} "
              f"{row['decided_after_endpoint_median_ms']:>17} "
              f"{row['ended_too_early']:>7} / {row['pause_turns']:<6}")
    print("\nend estimate - true end by room floor, ms: median / p90 / share > "
          f"{EARLY_MS:.0f} ms early")
    for floor in FLOORS_DBFS:
        cells = []
        for name in (BEFORE, DEFAULT):
            errors = np.array([e for e, f in zip(tallies[name].end_error_ms,
                                                 tallies[name].floors, strict=True)
                               if f == floor])
            cells.append(f"{name}: {np.median(errors):.0f} / {np.percentile(errors, 90):.0f}"
                         f" / {np.mean(errors < -EARLY_MS):.0%}")
        print(f"  {'silence' if floor is None else f'{floor:g} dBFS':<10} " + "   ".join(cells))
    print(f"speech starts identical for every rule (barge-in unchanged): "
          f"{info['starts_identical']}")
    for f in figures:
        print(f"{f.label}: {f.summary} ({f.note})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**info, "load": os.getloadavg()[0]}, indent=1))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
