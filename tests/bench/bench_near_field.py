"""Near-field screening on real speech: how often the wearer is rejected and the room accepted.

The wearer is close to the earpiece microphone: their speech at its recorded level (flite's
four voices and the five human "cards" recordings of pocketsphinx-testdata), and 6 dB softer
(a quieter voice, a lower mic gain). The room is other people reading aloud (the five LibriVox
recordings) attenuated by 20, 23 and 26 dB (a few metres away, or a television). Each clip
is mixed into a steady pink-noise room floor (-60, -55 and -50 dBFS: a quiet room, a fan, a
busy room) after 3 s of that noise alone, and run through exactly the parts the hub's
Listener uses (WebRTC VAD, segmenter, endpointer, level meter; 20 ms chunks). Every turn's
SNR (level minus floor) is compared with each threshold.

    .venv/bin/python -m tests.bench.bench_near_field

Prints a table and writes tests/bench/results/near_field.json. Pure computation: the
machine's load changes nothing measured but the meter's cost per chunk (printed with the load).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.local.level import MEASURED_AFTER_MS, LevelMeter, with_levels
from drivers.local.segmenter import Endpointer, SpeechSegmenter, SpeechStopped
from drivers.local.vad import WebRtcVad
from speech_api import AudioChunk
from tests.local.speech import at_rate, cards, flite, librivox, pink_noise

RESULTS = Path(__file__).parent / "results" / "near_field.json"
RATE = 16000
NOISE_FLOORS_DBFS = (-60.0, -55.0, -50.0)
WEARER_GAINS_DB = (0.0, -6.0)
ROOM_GAINS_DB = (-20.0, -23.0, -26.0)
THRESHOLDS_DB = tuple(range(10, 42, 2))
DEFAULT_DB = 22.0  # conversation.near_field_snr_db's default (config/maigic.yaml)
SENTENCES = ("what is the weather like tomorrow", "set a timer for ten minutes",
             "and what about the day after", "tell me more about that")


@dataclass(frozen=True)
class Turn:
    who: str  # "wearer" / "room"
    clip: str
    gain_db: float
    floor_dbfs: float
    snrs: tuple[float, ...]  # one per turn the hub would have committed (usually one)
    onsets: tuple[float, ...]  # each speech's SNR over its first MEASURED_AFTER_MS (a barge-in's)


def scene(clip: AudioChunk, gain_db: float, floor_dbfs: float, seed: int) -> AudioChunk:
    """``clip`` at ``gain_db`` over a pink-noise floor, with 3 s of noise before, 1.5 s after."""
    x = at_rate(clip, RATE).to_numpy()[:, 0].astype(np.float64) * 10 ** (gain_db / 20)
    x = np.concatenate([np.zeros(3 * RATE), x, np.zeros(RATE * 3 // 2)])
    noise = pink_noise(len(x), np.random.default_rng(seed))
    noise *= 32768 * 10 ** (floor_dbfs / 20) / np.sqrt(np.mean(noise**2))
    mixed = np.clip(np.round(x + noise), -32768, 32767).astype("<i2")
    return AudioChunk.pcm(mixed.tobytes(), RATE, captured_at_ns=0)


def turn_snrs(stream: AudioChunk) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Each turn's SNR and each speech start's onset SNR as the Listener measures them
    (the hub's default VAD settings)."""
    endpointer = Endpointer(SpeechSegmenter(WebRtcVad(sample_rate=RATE), start_ms=60,
                                            hangover_ms=300, min_speech_ms=150), 700)
    meter = LevelMeter()
    snrs: list[float] = []
    onsets: list[float] = []
    for chunk in stream.split(20):
        meter.feed(chunk)
        for event, level in with_levels(meter, endpointer.feed(chunk)):
            if isinstance(event, SpeechStopped) and level is not None:
                snrs.append(level.snr_db)
        measured = meter.measured()
        if measured is not None:
            onsets.append(measured.snr_db)
    return tuple(snrs), tuple(onsets)


def measure() -> list[Turn]:
    wearer = [(f"flite {voice}: {text}", flite(text, voice))
              for voice in ("kal16", "slt", "rms", "awb") for text in SENTENCES]
    wearer += [(f"cards {name}", audio) for name, audio, _ in cards()]
    room = [(f"librivox {name[-4:]}", audio) for name, audio, _ in librivox()]
    turns = []
    seed = 0
    for floor in NOISE_FLOORS_DBFS:
        for who, clips, gains in (("wearer", wearer, WEARER_GAINS_DB),
                                  ("room", room, ROOM_GAINS_DB)):
            for gain in gains:
                for name, audio in clips:
                    seed += 1
                    snrs, onsets = turn_snrs(scene(audio, gain, floor, seed))
                    turns.append(Turn(who, name, gain, floor, snrs, onsets))
    return turns


def rates(turns: list[Turn], threshold: float, onset: bool = False) -> dict[str, float]:
    """False rejects of the wearer (a clip not heard as one near turn at least) and false
    accepts of the room (any of its turns over the threshold would be answered); with
    ``onset``, the same for speech starts (a barge-in)."""
    wearer = [t.onsets if onset else t.snrs for t in turns if t.who == "wearer"]
    room = [t.onsets if onset else t.snrs for t in turns if t.who == "room"]
    rejected = sum(not any(s >= threshold for s in snrs) for snrs in wearer)
    accepted = sum(any(s >= threshold for s in snrs) for snrs in room)
    return {"false_reject": rejected / max(1, len(wearer)),
            "false_accept": accepted / max(1, len(room))}


def by_condition(turns: list[Turn], threshold: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for floor in NOISE_FLOORS_DBFS:
        for who, gains in (("wearer", WEARER_GAINS_DB), ("room", ROOM_GAINS_DB)):
            for gain in gains:
                group = [t for t in turns if (t.who, t.floor_dbfs, t.gain_db) == (who, floor, gain)]
                snrs = [s for t in group for s in t.snrs]
                wrong = rates(group, threshold)["false_reject" if who == "wearer"
                                                else "false_accept"]
                rows.append({"who": who, "floor_dbfs": floor, "gain_db": gain,
                             "clips": len(group), "turns": len(snrs),
                             "snr_min": round(min(snrs), 1) if snrs else None,
                             "snr_median": round(float(np.median(snrs)), 1) if snrs else None,
                             "snr_max": round(max(snrs), 1) if snrs else None,
                             "wrong": round(wrong, 3)})
    return rows


def meter_cost_us() -> float:
    """The meter's cost per 20 ms chunk (the Listener pays it for every captured chunk)."""
    chunks = at_rate(librivox()[0][1], RATE).split(20)
    meter = LevelMeter()
    started = time.perf_counter()
    for chunk in chunks:
        meter.feed(chunk)
    return (time.perf_counter() - started) / len(chunks) * 1e6


def main() -> int:
    cost = meter_cost_us()
    turns = measure()
    sweep = {t: rates(turns, t) for t in THRESHOLDS_DB}
    print("threshold dB   wearer rejected   room accepted")
    for threshold, r in sweep.items():
        print(f"{threshold:>12}   {r['false_reject']:>15.1%}   {r['false_accept']:>13.1%}")
    default = rates(turns, DEFAULT_DB)
    print(f"\nat the default {DEFAULT_DB:g} dB: wearer rejected {default['false_reject']:.1%}, "
          f"room accepted {default['false_accept']:.1%}")
    barge = rates(turns, DEFAULT_DB, onset=True)
    print(f"barge-in (the level of the speech's first {MEASURED_AFTER_MS} ms): "
          f"wearer rejected {barge['false_reject']:.1%}, room accepted {barge['false_accept']:.1%}")
    rows = by_condition(turns, DEFAULT_DB)
    print("\nwho     floor  gain  clips turns  SNR min / median / max   wrong at default")
    for row in rows:
        print(f"{row['who']:<7} {row['floor_dbfs']:>5} {row['gain_db']:>5} {row['clips']:>6} "
              f"{row['turns']:>5}  {row['snr_min']} / {row['snr_median']} / {row['snr_max']}"
              f"   {row['wrong']:.1%}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "default_db": DEFAULT_DB, "at_default": default, "barge_in_at_default": barge,
        "meter_us_per_chunk": round(cost, 1), "load": os.getloadavg()[0],
        "sweep": {str(k): v for k, v in sweep.items()}, "by_condition": rows,
        "turns": [t.__dict__ for t in turns]}, indent=1))
    load = os.getloadavg()[0]
    print(f"\nlevel meter: {cost:.0f} us per 20 ms chunk (load {load:.1f})")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
