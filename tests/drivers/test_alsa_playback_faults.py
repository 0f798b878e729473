"""Playback on a device that buffers in real time: underruns, loss and reopen, drop on flush."""

from __future__ import annotations

import logging
import time

import alsaaudio
import pytest

from drivers.alsa import AlsaPlayback
from drivers.backoff import Backoff
from speech_api.audio import AudioChunk
from tests.alsa.alsa_harness import noise_pcm
from tests.drivers.fake_pcm import FakePcmFactory, FakePlaybackPcm


def test_underruns_are_counted_and_survived(caplog: pytest.LogCaptureFixture) -> None:
    pcm = FakePlaybackPcm(16000, 1, 320, write_script=[None, "underrun", None, "broken"])
    audio = noise_pcm(16000, 0.2)
    with caplog.at_level(logging.WARNING), AlsaPlayback(
        "fake", 16000, pcm_factory=FakePcmFactory([pcm])
    ) as play:
        play.enqueue(AudioChunk.pcm(audio, 16000), "x")
        assert play.drain(timeout=5)
    assert play.underruns == 2
    assert bytes(pcm.written) == audio  # each period rejected by an xrun was written again
    assert "underrun #2" in caplog.text


def test_a_device_that_ran_dry_mid_stream_counts_as_an_underrun() -> None:
    # pyalsaaudio recovers underruns inside write(); the driver notices the empty device.
    pcm = FakePlaybackPcm(16000, 1, 320, write_script=[None, None, "stall"])
    audio = noise_pcm(16000, 0.2)
    with AlsaPlayback("fake", 16000, pcm_factory=FakePcmFactory([pcm])) as play:
        play.enqueue(AudioChunk.pcm(audio, 16000), "x")
        assert play.drain(timeout=5)
    assert play.underruns == 1
    assert bytes(pcm.written) == audio


def test_device_lost_mid_stream_reopens_with_backoff_and_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = FakePlaybackPcm(16000, 1, 320, write_script=[None, None, "error"])
    second = FakePlaybackPcm(16000, 1, 320)
    factory = FakePcmFactory([first, alsaaudio.ALSAAudioError("Cannot allocate memory"), second])
    audio = noise_pcm(16000, 0.3)
    backoff = Backoff(initial=0.01, maximum=0.05, jitter=0.0)
    changes: list[bool] = []
    with caplog.at_level(logging.INFO), AlsaPlayback(
        "bluealsa:DEV=00:00:00:00:00:00,PROFILE=sco", 16000, pcm_factory=factory, backoff=backoff,
        on_presence=lambda present, _why: changes.append(present),
    ) as play:
        play.enqueue(AudioChunk.pcm(audio, 16000), "reply")
        assert play.drain(timeout=5)
    assert len(factory.opens) == 3
    assert first.closed
    # Two periods before the loss, the lost period is gone, the rest plays on the new device.
    assert bytes(first.written) == audio[: 2 * 640]
    assert bytes(second.written) == audio[3 * 640 :]
    assert "playback device bluealsa:DEV=00:00:00:00:00:00,PROFILE=sco lost" in caplog.text
    assert "open again" in caplog.text
    assert changes == [True, False, True]  # reported once per change


def test_flush_on_a_buffering_device_drops_and_counts_only_heard_audio() -> None:
    pcm = FakePlaybackPcm(16000, 1, 320)
    with AlsaPlayback("fake", 16000, pcm_factory=FakePcmFactory([pcm])) as play:
        play.enqueue(AudioChunk.pcm(noise_pcm(16000, 2.0), 16000), "long")
        time.sleep(0.4)
        played = play.flush()
        written_ms = len(pcm.written) / 32
        time.sleep(0.1)
        assert len(pcm.written) / 32 == written_ms  # the writer wrote nothing after flush
    assert pcm.drops == 1  # the device's buffered tail was thrown away
    assert pcm.heard_at_drop is not None
    truth_ms = pcm.heard_at_drop / 16
    assert abs(played["long"] - truth_ms) <= 20, (played, truth_ms)
    assert written_ms - played["long"] > 0  # unheard audio in the device was not counted
    assert 300 <= played["long"] <= 600


def test_reopen_at_another_rate_drops_stale_audio_and_resamples_new(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = FakePlaybackPcm(16000, 1, 320, write_script=[None, "error"])
    second = FakePlaybackPcm(8000, 1, 160)  # e.g. HFP came back as CVSD at 8 kHz
    factory = FakePcmFactory([first, second])
    backoff = Backoff(initial=0.05, maximum=0.05, jitter=0.0)
    with caplog.at_level(logging.WARNING), AlsaPlayback(
        "earpiece", 16000, pcm_factory=factory, backoff=backoff
    ) as play:
        play.enqueue(AudioChunk.pcm(noise_pcm(16000, 1.0), 16000), "old")
        deadline = time.monotonic() + 5
        while len(factory.opens) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        play.enqueue(AudioChunk.pcm(noise_pcm(16000, 0.2), 16000), "new")
        assert play.drain(timeout=5)
        assert play.device_rate == 8000
    assert "dropping queued audio" in caplog.text
    assert len(second.written) == pytest.approx(0.2 * 8000 * 2, abs=64)


def test_failing_callbacks_do_not_stop_playback(caplog: pytest.LogCaptureFixture) -> None:
    pcm = FakePlaybackPcm(16000, 1, 320)
    calls: list[str] = []

    def bad_written(item: str, ms: int, at_ns: int) -> None:
        calls.append(item)
        raise RuntimeError("callback bug")

    audio = noise_pcm(16000, 0.1)
    with caplog.at_level(logging.ERROR), AlsaPlayback(
        "fake", 16000, pcm_factory=FakePcmFactory([pcm]), on_written=bad_written,
        on_idle=lambda: calls.append("idle"),
    ) as play:
        play.enqueue(AudioChunk.pcm(audio, 16000), "x")
        assert play.drain(timeout=5)
    assert bytes(pcm.written) == audio
    assert calls.count("x") == 5
    assert "callback bug" in caplog.text


def test_a_writer_bug_is_logged_and_the_device_reopened(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenAvail(FakePlaybackPcm):
        def avail(self) -> int:
            raise ZeroDivisionError("driver bug")

    good = FakePlaybackPcm(16000, 1, 320)
    factory = FakePcmFactory([BrokenAvail(16000, 1, 320), good])
    audio = noise_pcm(16000, 0.1)
    with caplog.at_level(logging.ERROR), AlsaPlayback(
        "fake", 16000, pcm_factory=factory, backoff=Backoff(initial=0.01, maximum=0.02),
    ) as play:
        play.enqueue(AudioChunk.pcm(audio, 16000), "x")
        assert play.drain(timeout=5)
    assert bytes(good.written) == audio
    assert "playback writer failed" in caplog.text
