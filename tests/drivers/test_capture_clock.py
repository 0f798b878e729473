"""Capture times follow the samples: a late read does not squeeze the audio's timeline."""

from __future__ import annotations

import itertools
import time

from drivers.alsa import AlsaCapture
from drivers.capture_clock import CaptureClock
from tests.alsa.alsa_harness import CAPTURE_PCM, AlsaFiles, FifoFeeder, noise_pcm

MS = 1_000_000
PERIOD = 320  # frames: 20 ms at 16 kHz


def test_prompt_reads_are_stamped_one_period_before_they_return() -> None:
    clock = CaptureClock(16000)
    stamps = [clock.stamp(PERIOD, 1000 * MS + n * 20 * MS) for n in range(10)]
    assert stamps == [980 * MS + n * 20 * MS for n in range(10)]
    assert clock.corrections == 0


def test_periods_read_late_keep_their_place_in_time() -> None:
    clock = CaptureClock(16000)
    returns = [1000 * MS + n * 20 * MS for n in range(10)]
    returns += [returns[-1] + 500 * MS + n * MS for n in range(1, 26)]  # a 0.5 s stall
    returns += [returns[-1] + n * 20 * MS for n in range(1, 10)]  # prompt again
    stamps = [clock.stamp(PERIOD, at) for at in returns]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [20 * MS] * (len(stamps) - 1)
    assert all(stamp + 20 * MS <= at for stamp, at in zip(stamps, returns, strict=True))
    assert clock.corrections == 0


def test_a_stream_running_ahead_of_the_clock_is_pulled_back_at_once() -> None:
    clock = CaptureClock(16000)
    clock.stamp(PERIOD, 1000 * MS)
    late = clock.stamp(PERIOD, 1010 * MS)  # 20 ms of audio cannot end 10 ms later
    assert late == 990 * MS and clock.corrections == 1


def test_a_slow_device_clock_is_caught_up_within_a_window() -> None:
    clock = CaptureClock(16000)
    at = 0
    worst = 0
    for _ in range(3000):  # a minute of periods that each take 1 % longer than 20 ms
        at += 20 * MS + 200_000
        stamp = clock.stamp(PERIOD, at)
        worst = max(worst, at - (stamp + 20 * MS))
    # 1 % of 5 s drifts 50 ms per window: caught up to within the window's drift
    assert worst <= 40 * MS + 60 * MS and clock.corrections > 0


def test_after_a_gap_the_next_read_anchors_anew() -> None:
    clock = CaptureClock(16000)
    clock.stamp(PERIOD, 1000 * MS)
    clock.restart()
    assert clock.stamp(PERIOD, 5000 * MS) == 4980 * MS


def test_a_reader_that_stalls_keeps_real_alsa_audio_on_its_timeline(alsa_files: AlsaFiles) -> None:
    """Through alsa-lib: chunks read in a burst after a stall are still 20 ms apart."""
    pcm = noise_pcm(16000, 2.0, seed=9)
    with FifoFeeder(alsa_files.infile, pcm, 16000):
        cap = AlsaCapture(CAPTURE_PCM, 16000, period_ms=20)
        cap.open()
        try:
            chunks = [cap.read() for _ in range(25)]
            time.sleep(0.5)  # the reader is starved (a loaded Pi): audio waits in the FIFO
            burst_started = time.monotonic_ns()
            chunks += [cap.read() for _ in range(25)]
        finally:
            cap.close()
    assert b"".join(c.data for c in chunks) == pcm[: 50 * 640]
    stamps = [c.captured_at_ns for c in chunks]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # while the reader is prompt, the stamps settle on the earliest a period can have
    # ended (the feeder's timing jitters); across the stall and the burst after it,
    # every period is 20 ms after the last (read with a per-read clock: ~0.1 ms)
    assert all(0 < gap <= 20 * MS for gap in gaps)
    assert gaps[24:] == [20 * MS] * 25, gaps
    assert stamps[25] < burst_started - 300 * MS  # heard before the reader got to it
