"""Capture xruns, stereo-only devices, other rates and vanishing devices, via fake PCMs."""

from __future__ import annotations

import logging
import threading

import alsaaudio
import numpy as np
import pytest

from drivers.alsa import AlsaCapture
from drivers.backoff import Backoff
from tests.alsa.alsa_harness import noise_pcm, sine_pcm
from tests.drivers.fake_pcm import FakeCapturePcm, FakePcmFactory


def periods(pcm: bytes, frames: int, channels: int = 1) -> list[bytes]:
    step = frames * 2 * channels
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


def test_overruns_are_counted_logged_and_survived(caplog: pytest.LogCaptureFixture) -> None:
    data = periods(noise_pcm(16000, 0.1), 320)
    script: list[bytes | str] = [data[0], "overrun", data[1], "overrun", "overrun", *data[2:]]
    factory = FakePcmFactory([FakeCapturePcm(script, 16000, 1, 320)])
    cap = AlsaCapture("fake", 16000, pcm_factory=factory)
    cap.open()
    with caplog.at_level(logging.WARNING):
        chunks = [cap.read() for _ in range(5)]
    cap.close()
    assert cap.overruns == 3
    assert b"".join(c.data for c in chunks) == b"".join(data)
    assert "overrun #3" in caplog.text


def test_device_lost_mid_stream_reopens_with_backoff_and_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = periods(noise_pcm(16000, 0.06, seed=2), 320)
    second = periods(noise_pcm(16000, 0.06, seed=3), 320)
    factory = FakePcmFactory([
        FakeCapturePcm([*first, "error"], 16000, 1, 320),
        alsaaudio.ALSAAudioError("Cannot allocate memory"),  # earpiece still away
        alsaaudio.ALSAAudioError("Cannot allocate memory"),
        FakeCapturePcm(second, 16000, 1, 320),
    ])
    changes: list[tuple[bool, str]] = []
    cap = AlsaCapture("bluealsa:DEV=00:00:00:00:00:00,PROFILE=sco", 16000, pcm_factory=factory,
                      on_presence=lambda present, why: changes.append((present, why)))
    stop = threading.Event()
    got = []
    with caplog.at_level(logging.DEBUG, logger="drivers"):
        for chunk in cap.stream(stop, Backoff(initial=0.01, maximum=0.05, jitter=0.0)):
            got.append(chunk.data)
            if len(got) == 6:
                stop.set()
    assert got == first + second
    assert len(factory.opens) == 4
    assert not cap.is_open
    # one line per change (lost, back), not per retry; the retries only at DEBUG
    told = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert [line.split(":")[0] for line in told] == [
        "capture device bluealsa", "capture device bluealsa"], told
    assert "lost" in told[0] and "open again" in told[1]
    assert "still waiting for capture device bluealsa" in caplog.text
    assert "daemon is down" in caplog.text  # the misleading ALSA message is explained
    assert [present for present, _ in changes] == [True, False, True]


def test_stream_stops_while_waiting_for_a_device() -> None:
    cap = AlsaCapture("gone", 16000, pcm_factory=FakePcmFactory([]))
    stop = threading.Event()
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    assert list(cap.stream(stop, Backoff(initial=0.02, maximum=0.05))) == []
    timer.join()


def test_stereo_only_device_is_downmixed() -> None:
    mono = sine_pcm(300, 16000, 0.04)
    left = np.frombuffer(mono, "<i2")
    stereo = np.stack([left, left], axis=1).astype("<i2").tobytes()
    factory = FakePcmFactory([
        alsaaudio.ALSAAudioError("Invalid argument"),  # refuses channels=1
        FakeCapturePcm(periods(stereo, 320, 2), 16000, 2, 320),
    ])
    with AlsaCapture("usbmic", 16000, pcm_factory=factory) as cap:
        chunks = [cap.read(), cap.read()]
    assert [o["channels"] for o in factory.opens] == [1, 2]
    assert b"".join(c.data for c in chunks) == mono


def test_device_granting_another_rate_is_resampled() -> None:
    native = sine_pcm(1000, 48000, 0.2)
    factory = FakePcmFactory([FakeCapturePcm(periods(native, 960), 48000, 1, 960)])
    with AlsaCapture("hw:1", 16000, pcm_factory=factory) as cap:
        chunks = [cap.read() for _ in range(8)]
    assert factory.opens[0]["rate"] == 16000 and factory.opens[0]["periodsize"] == 320
    assert all(c.sample_rate == 16000 and c.frames == 320 for c in chunks)
    y = np.frombuffer(b"".join(c.data for c in chunks), "<i2").astype(float)[200:]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) * 16000 / len(y) == pytest.approx(1000, abs=20)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="channels 1 or 2"):
        AlsaCapture("default", 16000, channels=6)


def test_a_storm_of_overruns_is_counted_but_not_logged_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = periods(noise_pcm(16000, 0.02), 320)
    script: list[bytes | str] = ["overrun"] * 250 + data
    factory = FakePcmFactory([FakeCapturePcm(script, 16000, 1, 320)])
    with caplog.at_level(logging.WARNING), AlsaCapture("fake", 16000, pcm_factory=factory) as cap:
        assert cap.read().data == data[0]
    assert cap.overruns == 250
    assert caplog.text.count("capture overrun") == 5  # #1, #2, #3, #100, #200
