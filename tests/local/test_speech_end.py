"""Speech ends where its energy ends, not where the VAD stops hearing the fading tail
(real WebRTC VAD, flite and human speech over pink room noise)."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.local.level import LevelMeter, with_levels
from drivers.local.segmenter import Endpointer, SpeechSegmenter, SpeechStarted, SpeechStopped
from drivers.local.speech_end import SOFT_START_MS, EndRule, EnergyEnd
from drivers.local.vad import WebRtcVad
from speech_api import AudioChunk
from tests.local.speech import at_rate, cards, flite, over_room_noise, speech_span

RATE = 16000
LEAD_MS = 1500
ENDPOINT_MS = 700
MS = 1_000_000


def _samples(clip: AudioChunk) -> np.ndarray:
    return at_rate(clip, RATE).to_numpy()[:, 0].astype(np.float64)


def _spoken(clip: AudioChunk) -> np.ndarray:
    """The clip's speech only (flite's own leading and trailing silence cut off)."""
    start_s, end_s = speech_span(clip, 25.0)[0], speech_span(clip, 40.0)[1]
    return _samples(clip)[int(start_s * RATE):int(end_s * RATE)]


def _gap(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


def _endpointer(rule: EndRule | None = EndRule()) -> Endpointer:  # noqa: B008
    """The hub's defaults (vad.*, conversation.endpoint_silence_ms)."""
    return Endpointer(SpeechSegmenter(WebRtcVad(sample_rate=RATE), start_ms=60,
                                      hangover_ms=300, min_speech_ms=150, end_rule=rule),
                      ENDPOINT_MS)


def _turns(audio: AudioChunk, endpointer: Endpointer) -> list[tuple[str, int, int]]:
    """(event, at ms, decided ms: the end of the chunk it came with)."""
    out = []
    for chunk in audio.split(20):
        decided = chunk.captured_at_ns + round((chunk.duration_ms or 0.0) * MS)
        out += [(type(e).__name__, e.at_ns // MS, decided // MS) for e in endpointer.feed(chunk)]
    return out


@pytest.mark.parametrize("floor_dbfs", [None, -60.0, -55.0])
def test_a_fading_tail_ends_where_the_speech_ends(floor_dbfs: float | None) -> None:
    clip = flite("What time is it in Paris right now?", "kal16")
    true_end_ms = LEAD_MS + speech_span(clip, 40.0)[1] * 1000  # inputs.py's speech end
    audio = over_room_noise(np.concatenate([_gap(LEAD_MS), _samples(clip), _gap(1500)]),
                            floor_dbfs, seed=3)
    events = _turns(audio, _endpointer())
    assert [e[0] for e in events] == ["SpeechStarted", "SpeechStopped"]
    _name, end_ms, decided_ms = events[1]
    assert abs(end_ms - true_end_ms) <= 20, (end_ms, true_end_ms)
    # the turn ends one endpoint after the true end (give or take a 20 ms chunk)
    assert ENDPOINT_MS <= decided_ms - end_ms < ENDPOINT_MS + 20
    assert abs(decided_ms - true_end_ms - ENDPOINT_MS) <= 30
    # the VAD alone hears the tail for 50-100 ms more, and the turn ended that much later
    vad_only = _turns(audio, _endpointer(None))
    assert vad_only[1][1] - true_end_ms >= 40 and vad_only[1][2] - decided_ms >= 40


@pytest.mark.parametrize("floor_dbfs", [-60.0, -50.0])
def test_a_pause_inside_a_sentence_does_not_end_the_turn(floor_dbfs: float) -> None:
    # "set a timer" starts with a soft /s/ the VAD takes a while to call speech: the
    # endpoint counted from the true end must not run out before it
    first = _spoken(flite("what is the weather like tomorrow", "slt"))
    second = _spoken(flite("set a timer for ten minutes", "slt"))
    audio = over_room_noise(np.concatenate([_gap(LEAD_MS), first, _gap(600), second,
                                            _gap(1500)]), floor_dbfs, seed=7)
    last_word_ms = LEAD_MS + (len(first) + len(second)) * 1000 / RATE + 600
    events = _turns(audio, _endpointer())
    assert [e[0] for e in events] == ["SpeechStarted", "SpeechStopped"], events
    assert abs(events[1][1] - last_word_ms) <= 30


def test_a_pause_as_long_as_the_endpoint_ends_the_turn() -> None:
    first = _spoken(flite("what is the weather like tomorrow", "slt"))
    second = _spoken(flite("and what about the day after", "slt"))
    audio = over_room_noise(np.concatenate([_gap(LEAD_MS), first, _gap(ENDPOINT_MS + 200),
                                            second, _gap(1500)]), -60.0, seed=9)
    names = [e[0] for e in _turns(audio, _endpointer())]
    assert names == ["SpeechStarted", "SpeechStopped"] * 2


def test_the_speech_level_is_measured_up_to_the_true_end() -> None:
    """The near-field level runs from speech start to speech end: a back-dated end keeps
    the tail's quiet frames out, so the level is the speech's, as before or louder."""
    _name, clip, _text = cards()[1]
    audio = over_room_noise(np.concatenate([_gap(3000), _samples(clip), _gap(1500)]), -55.0,
                            seed=11)
    levels = {}
    for label, rule in (("energy", EndRule()), ("vad", None)):
        endpointer, meter = _endpointer(rule), LevelMeter()
        for chunk in audio.split(20):
            meter.feed(chunk)
            for event, level in with_levels(meter, endpointer.feed(chunk)):
                if isinstance(event, SpeechStopped):
                    levels[label] = level
    energy, vad = levels["energy"], levels["vad"]
    assert energy is not None and vad is not None
    assert vad.level_dbfs <= energy.level_dbfs <= vad.level_dbfs + 1.0
    assert energy.snr_db > 25  # the wearer, near: far over the room


def _steady(db: float, ms: int, start_ms: int) -> AudioChunk:
    """A tone at ``db`` dBFS (RMS), ``ms`` long, captured at ``start_ms``."""
    t = np.arange(RATE * ms // 1000) / RATE
    x = np.sin(2 * np.pi * 300 * t) * 32768 * 10 ** (db / 20) * np.sqrt(2)
    return AudioChunk.pcm(np.round(x).astype("<i2").tobytes(), RATE,
                          captured_at_ns=start_ms * MS)


def test_the_end_moves_back_at_most_max_backdate_and_never_for_speech_under_the_floor() \
        -> None:
    ends = EnergyEnd(EndRule(max_backdate_ms=100.0), keep_ms=1000)
    ends.feed(_steady(-60, 500, 0))  # the room
    ends.feed(_steady(-20, 500, 500))  # speech until 1000 ms
    ends.feed(_steady(-60, 500, 1000))  # the VAD heard its tail until 1300 ms
    assert ends.end(1300 * MS, 500 * MS) == 1200 * MS  # bounded: 100 ms back at most
    assert EnergyEnd(EndRule(), keep_ms=1000).end(1300 * MS, 500 * MS) == 1300 * MS  # unfed
    wide = EnergyEnd(EndRule(), keep_ms=1000)
    for part in (_steady(-60, 500, 0), _steady(-20, 500, 500), _steady(-60, 500, 1000)):
        wide.feed(part)
    assert wide.end(1300 * MS, 500 * MS) == 1000 * MS
    assert not wide.loud  # the room's noise is not a next word
    wide.feed(_steady(-25, 20, 1500))
    assert wide.loud
    quiet = EnergyEnd(EndRule(), keep_ms=1000)
    quiet.feed(_steady(-55, 800, 0))  # speech as quiet as the room: energy cannot tell
    assert quiet.end(700 * MS, 200 * MS) == 700 * MS


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="below_peak_db"):
        EndRule(below_peak_db=-1)
    with pytest.raises(ValueError, match="max_backdate_ms"):
        EndRule(max_backdate_ms=-5)


def test_the_start_is_unchanged() -> None:
    """Barge-in acts on SpeechStarted: the energy end leaves it exactly as it was."""
    clip = flite("Wait, that is not what I asked.", "kal16")
    audio = over_room_noise(np.concatenate([_gap(LEAD_MS), _samples(clip), _gap(1500)]),
                            -55.0, seed=5)
    starts = [[e for e in _turns(audio, _endpointer(rule)) if e[0] == SpeechStarted.__name__]
              for rule in (EndRule(), None)]
    assert starts[0] == starts[1] and len(starts[0]) == 1


def test_a_lasting_sound_after_the_speech_does_not_hold_the_turn_open() -> None:
    """Frames as loud as the speech's end that the VAD does not call speech hold the
    endpoint only as long as a word's soft start could last: a fan switched on as the
    user stops (10 dB over the room, which WebRTC rejects) still lets the turn end."""
    clip = flite("What time is it in Paris right now?", "kal16")
    speech = _samples(clip)
    fan = over_room_noise(_gap(3000), -50.0, seed=13).to_numpy()[:, 0].astype(np.float64)
    audio = over_room_noise(np.concatenate([_gap(LEAD_MS), speech, _gap(400), fan]), -60.0,
                            seed=2)
    events = _turns(audio, _endpointer())
    assert [e[0] for e in events] == ["SpeechStarted", "SpeechStopped"], events
    true_end_ms = LEAD_MS + speech_span(clip, 40.0)[1] * 1000
    assert events[1][2] - true_end_ms <= ENDPOINT_MS + SOFT_START_MS
    # a steady sound: loud for a word's soft start, then not any more
    ends = EnergyEnd(EndRule(), keep_ms=1000)
    for part in (_steady(-60, 500, 0), _steady(-20, 500, 500), _steady(-60, 500, 1000)):
        ends.feed(part)
    assert ends.end(1300 * MS, 500 * MS) == 1000 * MS
    ends.feed(_steady(-30, SOFT_START_MS - 100, 1500))
    assert ends.loud
    ends.feed(_steady(-30, 200, 1500 + SOFT_START_MS - 100))
    assert not ends.loud
