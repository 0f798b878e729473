"""The earpiece's audio coming and going, as the conversation state machine sees it."""

from __future__ import annotations

from actors import messages as m
from actors.conversation import LISTENER, PLAYBACK, ConversationSettings, State
from tests.actors.test_conversation import now, online, sent, tap


def test_gone_while_speaking_ends_the_turn_and_the_provider_is_told() -> None:
    conv, _clock = online(ConversationSettings(follow_up_s=0))
    conv.handle(tap())
    conv.handle(m.VoiceStarted())
    conv.handle(m.VoiceEnded())
    conv.handle(m.ReplyAudioStarted("r1"))
    assert now(conv) is State.SPEAKING
    effects = conv.handle(m.AudioDevices(False, "waiting for the earpiece (playback x)"))
    # the flush makes Playback report what was heard; the Session then cancels/truncates
    assert sent(effects, PLAYBACK) == [m.FlushPlayback("interrupted while speaking")]
    assert now(conv) is State.IDLE


def test_gone_while_listening_cancels_the_turn() -> None:
    conv, _clock = online()
    conv.handle(tap())
    assert now(conv) is State.LISTENING
    effects = conv.handle(m.AudioDevices(False, "gone"))
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CancelTurn())]
    assert now(conv) is State.IDLE


def test_triggers_do_nothing_until_the_audio_is_back() -> None:
    conv, _clock = online()
    assert conv.handle(m.AudioDevices(False, "gone")) == []
    for trigger in (tap(), m.WakeDetected("okay_nabu"), m.ButtonPressed(m.Press.HOLD_START)):
        assert conv.handle(trigger) == []
        assert now(conv) is State.IDLE
    assert conv.handle(m.AudioDevices(True, "connected")) == []
    conv.handle(tap())
    assert now(conv) is State.LISTENING
