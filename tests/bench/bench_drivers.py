"""Driver-level figures: resampler cost, flush accuracy, capture and playback timing.

    .venv/bin/python -m tests.bench.bench_drivers [--out bench-drivers.json]

Everything goes through the real drivers and real alsa-lib (file plugin, FIFO-paced
capture) or the fake buffering PCM of the driver tests. Prints a table and writes
the numbers as JSON. Takes about 30 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from drivers.alsa import AlsaCapture, AlsaPlayback
from drivers.resample import StreamResampler
from speech_api.audio import AudioChunk
from tests.alsa.alsa_harness import (
    CAPTURE_PCM,
    PLAYBACK_PCM,
    FifoFeeder,
    alsa_env,
    noise_pcm,
    read_played_wav,
)
from tests.drivers.fake_pcm import FakePcmFactory, FakePlaybackPcm

PAIRS = [(8000, 24000), (16000, 24000), (24000, 16000), (24000, 48000), (44100, 48000),
         (48000, 16000)]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(values), "median": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max": ordered[-1], "min": ordered[0]}


def bench_resampler() -> dict[str, Any]:
    """CPU ms per second of mono audio, fed in 20 ms chunks like the live path."""
    out: dict[str, Any] = {}
    for in_rate, out_rate in PAIRS:
        pcm = noise_pcm(in_rate, 10.0)
        step = in_rate // 50 * 2
        rs = StreamResampler(in_rate, out_rate)
        started = time.process_time()
        for offset in range(0, len(pcm), step):
            rs.process(pcm[offset : offset + step])
        rs.flush()
        cpu_ms_per_s = (time.process_time() - started) * 1000 / 10
        out[f"{in_rate}->{out_rate}"] = round(cpu_ms_per_s, 2)
    return out


def bench_flush_file_plugin(tmp: Path, runs: int) -> dict[str, Any]:
    """|reported played ms - ms in the played WAV| after flushing mid-item."""
    errors = []
    for run in range(runs):
        out = tmp / f"flush{run}.wav"
        os.environ.update(alsa_env(tmp / "none.raw", out))
        with AlsaPlayback(PLAYBACK_PCM, 24000) as play:
            play.enqueue(AudioChunk.pcm(noise_pcm(24000, 2.0), 24000), "a")
            time.sleep(0.2 + 0.05 * run)
            played = play.flush()
        truth = read_played_wav(out).frames * 1000 / 24000
        errors.append(abs(played.get("a", 0) - truth))
    return summary(errors)


def bench_flush_buffering_device(runs: int) -> dict[str, Any]:
    """Same on a device that buffers in real time (the fake PCM): reported vs heard."""
    errors = []
    for run in range(runs):
        pcm = FakePlaybackPcm(16000, 1, 320)
        with AlsaPlayback("fake", 16000, pcm_factory=FakePcmFactory([pcm])) as play:
            play.enqueue(AudioChunk.pcm(noise_pcm(16000, 2.0), 16000), "a")
            time.sleep(0.2 + 0.05 * run)
            played = play.flush()
        heard = (pcm.heard_at_drop or 0) / 16
        errors.append(abs(played.get("a", 0) - heard))
    return summary(errors)


def bench_capture_timing(tmp: Path) -> dict[str, Any]:
    """FIFO-paced capture of 3 s: gap between reads, and stamp vs feed time."""
    fifo = tmp / "cap.fifo"
    os.environ.update(alsa_env(fifo, tmp / "unused.wav"))
    pcm = noise_pcm(16000, 3.0)
    gaps, stamps = [], []
    with FifoFeeder(fifo, pcm, 16000) as feeder:
        with AlsaCapture(CAPTURE_PCM, 16000) as cap:
            last = time.monotonic_ns()
            for _ in range(150):
                chunk = cap.read()
                now = time.monotonic_ns()
                gaps.append((now - last) / 1e6)
                last = now
                stamps.append(chunk.captured_at_ns)
        feeder.join(5)
    offsets = [(s - feeder.started_at_ns) / 1e6 - i * 20 for i, s in enumerate(stamps)]
    return {"read_gap_ms": summary(gaps[1:]), "stamp_minus_feed_ms": summary(offsets)}


def bench_enqueue_to_written(tmp: Path) -> dict[str, Any]:
    """Latency from enqueue() of a chunk on an idle player to its first period written."""
    os.environ.update(alsa_env(tmp / "none.raw", tmp / "lat.wav"))
    latencies: list[float] = []
    written = threading.Event()
    first: list[int] = []

    def on_written(item: str, ms: int, at_ns: int) -> None:
        if not first:
            first.append(at_ns)
            written.set()

    with AlsaPlayback(PLAYBACK_PCM, 24000, on_written=on_written) as play:
        for _ in range(20):
            first.clear()
            written.clear()
            sent = time.monotonic_ns()
            play.enqueue(AudioChunk.pcm(bytes(960), 24000), "x")
            written.wait(2)
            latencies.append((first[0] - sent) / 1e6 if first else float("nan"))
            play.drain(2)
    return summary(latencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-drivers.json"))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results = {
            "resampler_cpu_ms_per_audio_s": bench_resampler(),
            "flush_error_ms_file_plugin": bench_flush_file_plugin(tmp, args.runs),
            "flush_error_ms_buffering_device": bench_flush_buffering_device(args.runs),
            "capture_fifo": bench_capture_timing(tmp),
            "enqueue_to_first_write_ms": bench_enqueue_to_written(tmp),
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                        "numpy": np.__version__},
        }
    print(json.dumps(results, indent=2))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
