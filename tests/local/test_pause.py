"""The pause detector on real speech (flite) and real silence."""

from __future__ import annotations

import pytest

from drivers.local.pause import PauseDetector
from speech_api import AudioChunk
from tests.local.speech import concat, flite, silence


def feed(detector: PauseDetector, audio: AudioChunk) -> list[bool]:
    """``paused`` after each 20 ms chunk of ``audio``."""
    states = []
    for piece in audio.split(20):
        detector.feed(AudioChunk.pcm(piece.data, piece.sample_rate))
        states.append(detector.paused)
    return states


def test_silence_alone_is_no_pause_there_is_no_speech_to_have_paused() -> None:
    assert not any(feed(PauseDetector(200), silence(1500)))


def test_speech_then_quiet_is_a_pause_after_the_set_time_and_speech_ends_it() -> None:
    detector = PauseDetector(200)
    speech = flite("what time is it")
    assert not feed(detector, concat(silence(300), speech))[-1]
    frames = detector.speech_frames
    assert frames > 10
    after = feed(detector, silence(400))
    assert not after[0] and after[-1]
    first = after.index(True)
    assert 0 < first <= 10  # 200 ms of quiet, some of it the tail of flite's clip
    assert not feed(detector, flite("please"))[-1]  # speech came back
    assert detector.speech_frames > frames


def test_a_quiet_room_is_quiet_but_a_softer_word_is_speech() -> None:
    detector = PauseDetector(200)
    feed(detector, flite("set a timer"))
    loud = flite("ten minutes")
    soft = AudioChunk.pcm(_scaled(loud.data, 0.25), loud.sample_rate)
    frames = detector.speech_frames
    feed(detector, soft)  # 12 dB down: still the user
    assert detector.speech_frames > frames


def test_reset_forgets_the_turn() -> None:
    detector = PauseDetector(200)
    feed(detector, concat(flite("what time is it"), silence(400)))
    assert detector.paused
    detector.reset()
    assert not detector.paused and detector.speech_frames == 0


def test_the_pause_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="after_ms"):
        PauseDetector(0)


def _scaled(pcm: bytes, gain: float) -> bytes:
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * gain
    return samples.astype("<i2").tobytes()
