"""The level meter on real speech (LibriVox, flite) over a pink-noise room floor."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.local.energy import FLOOR_MIN_DBFS
from drivers.local.level import (
    MEASURED_AFTER_MS,
    SEGMENT_MAX_S,
    LevelMeter,
    SpeechLevel,
    with_levels,
)
from drivers.local.segmenter import Endpointer, SpeechSegmenter, SpeechStarted, SpeechStopped
from drivers.local.vad import WebRtcVad
from speech_api import AudioChunk
from tests.local.speech import concat, flite, librivox, pink_noise, silence

RATE = 16000
NS_PER_S = 1_000_000_000


def noise(seconds: float, dbfs: float, seed: int = 1) -> np.ndarray:
    x = pink_noise(int(seconds * RATE), np.random.default_rng(seed))
    return np.asarray(x * 32768 * 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2)))


def samples(clip: AudioChunk, gain_db: float = 0.0) -> np.ndarray:
    return np.asarray(concat(clip).to_numpy()[:, 0].astype(np.float64) * 10 ** (gain_db / 20))


def pcm(x: np.ndarray, at_s: float = 0.0) -> AudioChunk:
    """``x`` as captured ``at_s`` seconds into the stream."""
    return AudioChunk.pcm(np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes(), RATE,
                          captured_at_ns=int(at_s * NS_PER_S))


def feed(meter: LevelMeter, stream: AudioChunk) -> None:
    for chunk in stream.split(20):
        meter.feed(chunk)


def reading() -> AudioChunk:
    return librivox()[0][1]  # 7 s of a person reading aloud


def test_the_floor_finds_the_room_noise_and_speech_barely_lifts_it() -> None:
    meter = LevelMeter()
    speech = samples(concat(*(flite(text, voice) for voice in ("rms", "slt") for text in (
        "the quick brown fox jumps over the lazy dog",
        "she sells sea shells by the sea shore"))))  # seconds of talk, with no noise of its own
    x = noise(2 + len(speech) / RATE, -55)
    x[RATE * 2:RATE * 2 + len(speech)] += speech
    feed(meter, pcm(x[:RATE * 2]))
    assert meter.floor_dbfs == pytest.approx(-55 - 3, abs=2.5)  # frames' quiet end
    before = meter.floor_dbfs
    feed(meter, pcm(x[RATE * 2:], at_s=2))
    assert meter.floor_dbfs is not None and before is not None
    assert len(speech) > 6 * RATE
    # the pauses between words hold it in the noise (-55 dBFS), 30 dB under the speech
    assert meter.floor_dbfs < -52 and meter.floor_dbfs - before < 4


def test_the_floor_rises_slowly_to_a_louder_room() -> None:
    meter = LevelMeter(rise_db_per_s=1.0)
    feed(meter, pcm(noise(2, -58)))
    quiet = meter.floor_dbfs
    assert quiet is not None
    feed(meter, pcm(noise(1, -43, seed=2), at_s=2))
    assert meter.floor_dbfs is not None and meter.floor_dbfs - quiet < 2  # a loud second: no
    feed(meter, pcm(noise(20, -43, seed=3), at_s=3))
    assert meter.floor_dbfs == pytest.approx(-43 - 3, abs=2.5)  # a lasting change: yes


def test_digital_silence_counts_as_a_quiet_room() -> None:
    meter = LevelMeter()
    feed(meter, silence(2000))
    assert meter.floor_dbfs == FLOOR_MIN_DBFS


def test_a_far_voice_measures_as_much_quieter_as_it_is() -> None:
    speech = samples(reading())
    levels = []
    for gain in (0.0, -24.0):
        meter = LevelMeter()
        x = noise(2 + len(speech) / RATE, -60)
        x[RATE * 2:] += speech * 10 ** (gain / 20)
        feed(meter, pcm(x[:RATE * 2]))
        onset = meter.begin(2 * NS_PER_S)
        assert onset is None  # nothing captured since then yet
        feed(meter, pcm(x[RATE * 2:], at_s=2))
        level = meter.end(10 * NS_PER_S)
        assert isinstance(level, SpeechLevel)
        levels.append(level)
    near, far = levels
    assert near.level_dbfs == pytest.approx(-20, abs=2)  # the recording's loud syllables
    assert near.level_dbfs - far.level_dbfs == pytest.approx(24, abs=1.5)
    assert near.snr_db > 35 and far.snr_db < 20


def test_the_onset_counts_frames_before_the_speech_was_confirmed() -> None:
    meter = LevelMeter()
    feed(meter, pcm(noise(1, -60)))
    feed(meter, pcm(samples(flite("hello there")), at_s=1))
    onset = meter.begin(NS_PER_S)
    assert onset is not None and onset.snr_db > 25


def test_the_silence_that_ends_the_speech_is_left_out() -> None:
    clip = samples(flite("yes"))  # short: seconds of silence would be most of its frames
    end_ns = len(clip) * NS_PER_S // RATE
    alone, followed, everything = LevelMeter(), LevelMeter(), LevelMeter()
    for meter, tail_s in ((alone, 0), (followed, 6), (everything, 6)):
        meter.begin(0)
        feed(meter, pcm(np.concatenate([clip, np.zeros(tail_s * RATE)])))
    heard, measured, diluted = alone.end(end_ns), followed.end(end_ns), everything.end(10**12)
    assert heard is not None and measured is not None and diluted is not None
    assert measured == heard
    assert diluted.level_dbfs < heard.level_dbfs - 10  # what the end's limit keeps out
    assert alone.end(0) is None  # nothing under way any more


def test_the_listener_s_parts_tell_the_wearer_from_the_room() -> None:
    """The segmenter's events with their levels, as the Listener sends them: the wearer
    (flite, recorded level) and a reading 24 dB down, over one -55 dBFS room."""
    wearer = samples(flite("what is the weather like tomorrow", "rms"))
    room = samples(reading(), -24)
    x = noise(3 + len(wearer) / RATE + 2 + len(room) / RATE + 2, -55)
    at_wearer, at_room = 3 * RATE, 3 * RATE + len(wearer) + 2 * RATE
    x[at_wearer:at_wearer + len(wearer)] += wearer
    x[at_room:at_room + len(room)] += room
    endpointer = Endpointer(SpeechSegmenter(WebRtcVad(sample_rate=RATE), hangover_ms=300), 700)
    meter = LevelMeter()
    events = []
    for chunk in pcm(x).split(20):
        meter.feed(chunk)
        events += with_levels(meter, endpointer.feed(chunk))
    kinds = [type(event) for event, _ in events]
    assert kinds[:2] == [SpeechStarted, SpeechStopped], kinds
    stops = [level for event, level in events if isinstance(event, SpeechStopped)]
    assert all(level is not None for level in stops)
    snrs = [level.snr_db for level in stops if level is not None]
    assert snrs[0] > 30  # the wearer
    assert snrs[1:] and all(snr < 22 for snr in snrs[1:]), snrs  # the room, however it splits


def test_the_speech_is_measured_once_when_it_has_lasted_long_enough() -> None:
    """A start's onset may be one soft consonant; a barge-in is judged over more of it."""
    meter = LevelMeter()
    feed(meter, pcm(noise(1, -60)))
    assert meter.measured() is None  # no speech under way
    meter.begin(NS_PER_S)
    speech = samples(flite("what is the weather like tomorrow", "kal16"))
    told = []
    for chunk in pcm(speech, at_s=1).split(20):
        meter.feed(chunk)
        level = meter.measured()
        if level is not None:
            told.append((chunk.captured_at_ns + 20_000_000 - NS_PER_S) / 1e6)
    assert told == [MEASURED_AFTER_MS]  # once, when it had lasted that long
    meter.end(NS_PER_S * 10)
    assert meter.measured() is None


def test_a_speech_that_never_ends_is_measured_over_its_last_minute() -> None:
    """A television that never pauses: the meter's memory stays bounded."""
    meter = LevelMeter(frame_ms=100)  # fewer frames, the same bound in seconds
    meter.begin(0)
    x = noise(SEGMENT_MAX_S + 30, -20)
    x[:30 * RATE] *= 10  # 20 dB louder in the first 30 s
    feed(meter, pcm(x))
    level = meter.measured()
    assert level is not None and level.level_dbfs < -15  # the loud first 30 s are forgotten
