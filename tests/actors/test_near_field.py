"""Near-field screening in the conversation: speech without a trigger must be the wearer's
(loud over the noise floor), else it neither starts a turn nor stops an answer."""

from __future__ import annotations

import logging

import pytest

from actors import messages as m
from actors.conversation import LISTENER, PLAYBACK, Conversation, ConversationSettings, State
from drivers.local.level import SpeechLevel
from tests.actors.test_conversation import Clock, arms, now, online, sent, speaking, tap

NEAR = SpeechLevel(level_dbfs=-22.0, floor_dbfs=-60.0)  # 38 dB over the floor: the wearer
FAR = SpeechLevel(level_dbfs=-42.0, floor_dbfs=-51.0)  # 9 dB: the television
SCREENING = ConversationSettings(follow_up_s=4, near_field_snr_db=22, max_utterance_s=20)


def clock_of(conv: Conversation) -> Clock:
    clock = conv._clock
    assert isinstance(clock, Clock)
    return clock


def in_follow_up(settings: ConversationSettings = SCREENING) -> Conversation:
    conv = speaking(settings)
    conv.handle(m.ReplyPlayed("r1"))
    assert now(conv) is State.LISTENING
    return conv


def test_far_speech_in_the_follow_up_window_is_cancelled_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="actors.conversation")
    conv = in_follow_up()
    conv.handle(m.SpeechStarted(level=FAR))
    effects = conv.handle(m.SpeechStopped(level=FAR))
    assert now(conv) is State.IDLE
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CancelTurn())]  # nothing committed
    said = [r.getMessage() for r in caplog.records if "not the wearer" in r.getMessage()]
    assert said == ["state LISTENING -> IDLE (speech at -42 dBFS, 9 dB over the floor "
                    "(-51 dBFS): not the wearer, ignored)"]


def test_near_speech_in_the_follow_up_window_is_committed() -> None:
    conv = in_follow_up()
    conv.handle(m.SpeechStarted(level=FAR))  # a soft onset does not decide: the whole speech does
    effects = conv.handle(m.SpeechStopped(level=NEAR))
    assert now(conv) is State.THINKING
    [close] = sent(effects, LISTENER)
    assert isinstance(close, m.CloseMic) and isinstance(close.then, m.CommitTurn)


def test_a_triggered_turn_is_never_screened_by_level() -> None:
    conv, _ = online(SCREENING)
    conv.handle(tap())
    conv.handle(m.SpeechStarted(level=FAR))
    effects = conv.handle(m.SpeechStopped(level=FAR))
    assert now(conv) is State.THINKING
    [close] = sent(effects, LISTENER)
    assert isinstance(close, m.CloseMic) and isinstance(close.then, m.CommitTurn)


def test_screening_off_commits_far_speech() -> None:
    conv = in_follow_up(ConversationSettings(follow_up_s=4, near_field_snr_db=0))
    conv.handle(m.SpeechStarted(level=FAR))
    conv.handle(m.SpeechStopped(level=FAR))
    assert now(conv) is State.THINKING


def test_speech_without_a_measured_level_is_not_screened() -> None:
    conv = in_follow_up()
    conv.handle(m.SpeechStarted())
    conv.handle(m.SpeechStopped())
    assert now(conv) is State.THINKING


def test_far_speech_never_barges_in_near_speech_does(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="actors.conversation")
    conv = speaking(SCREENING)
    clock = clock_of(conv)
    assert conv.handle(m.SpeechStarted(at_ns=clock.now - 300_000_000, level=FAR)) == []
    assert not any("not the wearer" in r.getMessage() for r in caplog.records)  # not judged yet
    assert conv.handle(m.SpeechMeasured(FAR)) == []  # 400 ms of it: the room
    assert now(conv) is State.SPEAKING
    assert [r.getMessage() for r in caplog.records if "not the wearer" in r.getMessage()] == [
        "speech at -42 dBFS, 9 dB over the floor (-51 dBFS): not the wearer, no barge-in"]
    conv.handle(m.SpeechStopped(level=FAR))
    effects = conv.handle(m.SpeechStarted(at_ns=clock.now - 300_000_000, level=NEAR))
    assert now(conv) is State.LISTENING
    assert isinstance(sent(effects, PLAYBACK)[0], m.FlushPlayback)


def test_a_soft_onset_barges_in_once_more_of_the_speech_is_near() -> None:
    """A start's onset can be one soft consonant ("what..."): the barge-in waits for the
    level over more of the speech."""
    conv = speaking(SCREENING)
    clock = clock_of(conv)
    assert conv.handle(m.SpeechStarted(at_ns=clock.now - 300_000_000, level=FAR)) == []
    effects = conv.handle(m.SpeechMeasured(NEAR))
    assert now(conv) is State.LISTENING
    assert isinstance(sent(effects, PLAYBACK)[0], m.FlushPlayback)
    assert m.OpenMic(clock.now - 300_000_000) in sent(effects, LISTENER)


def test_speech_measured_far_while_the_barge_in_check_waits_does_not_barge_in() -> None:
    conv = speaking(ConversationSettings(near_field_snr_db=22, barge_in_min_speech_ms=250))
    clock = clock_of(conv)
    check = arms(conv.handle(m.SpeechStarted(at_ns=clock.now, level=NEAR)))[0]
    assert conv.handle(m.SpeechMeasured(FAR)) == []  # the check is armed: it decides
    clock.now += 250_000_000
    conv.handle(m.Deadline(check.token))
    assert now(conv) is State.SPEAKING  # the speech turned out far


def test_speech_while_thinking_takes_the_turn_back_whatever_its_level() -> None:
    """Nothing plays yet: a soft onset may be the wearer going on, and a turn not taken
    back would lose their words (the real reading of tests/realspeech did: -44 dBFS over
    digital silence measures 16 dB)."""
    conv, clock = online(SCREENING)
    conv.handle(tap())
    conv.handle(m.SpeechStarted(level=NEAR))
    conv.handle(m.SpeechStopped(level=NEAR))
    start = clock.now + 1
    effects = conv.handle(m.SpeechStarted(at_ns=start, level=FAR))
    assert now(conv) is State.LISTENING
    assert m.OpenMic(start, resume=True) in sent(effects, LISTENER)


def test_far_speech_always_listening_starts_no_turn() -> None:
    conv, _ = online(ConversationSettings(vad_turns=True, near_field_snr_db=22))
    conv.handle(m.SpeechStarted(level=FAR))
    assert now(conv) is State.LISTENING  # the mic is open while it is measured
    effects = conv.handle(m.SpeechStopped(level=FAR))
    assert now(conv) is State.IDLE
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CancelTurn())]
    conv.handle(m.SpeechStarted(level=NEAR))
    conv.handle(m.SpeechStopped(level=NEAR))
    assert now(conv) is State.THINKING


def test_a_far_monologue_without_a_trigger_is_cancelled_not_split() -> None:
    conv = in_follow_up()
    timeout = arms(conv.handle(m.SpeechStarted(level=FAR)))[-1]  # the utterance's clock runs
    assert timeout.seconds == 20
    effects = conv.handle(m.Deadline(timeout.token))  # still talking after 20 s
    assert now(conv) is State.IDLE
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CancelTurn())]
