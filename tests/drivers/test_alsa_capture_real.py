"""Capture through real alsa-lib (file plugin): bytes in == bytes out, real-time pacing."""

from __future__ import annotations

import itertools
import time

import pytest

from drivers.alsa import AlsaCapture, DeviceLostError
from tests.alsa.alsa_harness import CAPTURE_PCM, AlsaFiles, FifoFeeder, noise_pcm, sine_pcm


def test_captured_bytes_equal_the_input(alsa_files: AlsaFiles) -> None:
    pcm = noise_pcm(16000, 1.0)
    alsa_files.infile.write_bytes(pcm)
    with AlsaCapture(CAPTURE_PCM, 16000, period_ms=20) as cap:
        assert cap.granted is not None
        granted = cap.granted
        assert (granted.rate, granted.channels, granted.period_frames) == (16000, 1, 320)
        chunks = [cap.read() for _ in range(50)]
    assert all(c.frames == 320 and c.sample_rate == 16000 and c.channels == 1 for c in chunks)
    assert b"".join(c.data for c in chunks) == pcm
    assert cap.overruns == 0


def test_fifo_paced_capture_runs_in_real_time_with_increasing_stamps(alsa_files: AlsaFiles) -> None:
    pcm = noise_pcm(16000, 1.0, seed=5)
    with FifoFeeder(alsa_files.infile, pcm, 16000) as feeder:
        cap = AlsaCapture(CAPTURE_PCM, 16000, period_ms=20)
        cap.open()
        try:
            started = time.monotonic()
            chunks = [cap.read() for _ in range(50)]
            elapsed = time.monotonic() - started
        finally:
            cap.close()
        feeder.join(timeout=5)
    assert feeder.error is None
    assert b"".join(c.data for c in chunks) == pcm
    # Paced by the feeder: 1 s of audio cannot arrive much faster than 1 s.
    assert elapsed > 0.8
    stamps = [c.captured_at_ns for c in chunks]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    # The first chunk's stamp is when its audio went in, not when we read it out.
    assert abs(stamps[0] - feeder.started_at_ns) < 200_000_000


def test_capture_at_another_period_is_reframed(alsa_files: AlsaFiles) -> None:
    pcm = sine_pcm(440, 8000, 0.5)
    alsa_files.infile.write_bytes(pcm)
    with AlsaCapture(CAPTURE_PCM, 8000, period_ms=30) as cap:
        chunks = [cap.read() for _ in range(16)]
    assert {c.frames for c in chunks} == {240}
    assert b"".join(c.data for c in chunks) == pcm[: 16 * 480]


def test_missing_device_raises_device_lost_naming_it(alsa_files: AlsaFiles) -> None:
    cap = AlsaCapture("no_such_pcm", 16000)
    with pytest.raises(DeviceLostError, match="no_such_pcm") as info:
        cap.open()
    assert info.value.device == "no_such_pcm"
    assert not cap.is_open
    with pytest.raises(DeviceLostError, match="not open"):
        cap.read()
