"""A reply no turn asked for (a timer's ring) while the hub rests: it can be stopped."""

from __future__ import annotations

from actors import messages as m
from actors.conversation import LISTENER, PLAYBACK, Conversation, ConversationSettings, State
from tests.actors.test_conversation import now, online, sent, tap


def ringing(settings: ConversationSettings | None = None) -> Conversation:
    conv, _clock = online(settings)
    conv.handle(m.ReplyAudioStarted("ring-1"))
    return conv


def test_a_ring_while_idle_is_spoken_and_a_tap_stops_it() -> None:
    conv = ringing()
    assert now(conv) is State.SPEAKING
    effects = conv.handle(tap())
    assert [type(x) for x in sent(effects, PLAYBACK)] == [m.FlushPlayback]
    assert now(conv) is State.IDLE


def test_a_played_ring_rests_without_a_follow_up_window() -> None:
    conv = ringing(ConversationSettings(follow_up_s=5.0))
    effects = conv.handle(m.ReplyPlayed("ring-1"))
    assert now(conv) is State.IDLE
    assert sent(effects, LISTENER) == []  # no mic opened: nobody asked anything


def test_an_answer_after_a_ring_still_gets_its_follow_up_window() -> None:
    conv = ringing(ConversationSettings(follow_up_s=5.0))
    conv.handle(m.ReplyPlayed("ring-1"))
    conv.handle(tap())
    conv.handle(m.SpeechStarted(at_ns=10))
    conv.handle(m.SpeechStopped(at_ns=20))
    conv.handle(m.ReplyAudioStarted("r1"))
    conv.handle(m.ReplyPlayed("r1"))
    assert now(conv) is State.LISTENING  # the follow-up window


def test_speech_at_the_start_of_a_ring_is_no_turn_taken_back() -> None:
    conv, clock = online(ConversationSettings(vad_turns=True))
    conv.handle(m.ReplyAudioStarted("ring-1"))
    rang_at = clock.now
    clock.now += 400_000_000
    effects = conv.handle(m.SpeechStarted(at_ns=rang_at + 100_000_000))
    # no turn to resume: the speech barges in like any other (it lasted 300 ms already)
    assert now(conv) is State.LISTENING
    assert sent(effects, LISTENER) == [m.OpenMic(rang_at + 100_000_000)]
