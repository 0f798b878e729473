"""The conversation state machine, driven message by message (no threads)."""

from __future__ import annotations

import pytest

from actors import messages as m
from actors.conversation import (
    LISTENER,
    PLAYBACK,
    SESSION,
    Arm,
    Conversation,
    ConversationSettings,
    Disarm,
    Effect,
    Send,
    State,
    Transition,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def now(conv: Conversation) -> State:
    """The current state (a call, so mypy does not narrow it across handle())."""
    return conv.state


def sent(effects: list[Effect], role: str | None = None) -> list[object]:
    return [e.message for e in effects if isinstance(e, Send) and (role is None or e.role == role)]


def arms(effects: list[Effect]) -> list[Arm]:
    return [e for e in effects if isinstance(e, Arm)]


def online(settings: ConversationSettings | None = None) -> tuple[Conversation, Clock]:
    clock = Clock()
    conv = Conversation(settings or ConversationSettings(), clock)
    conv.handle(m.ProviderOnline())
    assert now(conv) is State.IDLE
    return conv, clock


def tap() -> m.ButtonPressed:
    return m.ButtonPressed(m.Press.TAP)


def thinking() -> tuple[Conversation, Clock]:
    """A tap, speech from 10 to 20 ns, committed: waiting for the answer."""
    conv, clock = online()
    conv.handle(tap())
    conv.handle(m.SpeechStarted(at_ns=10))
    conv.handle(m.SpeechStopped(at_ns=20))
    assert now(conv) is State.THINKING
    return conv, clock


def test_starts_offline_until_the_provider_is_ready() -> None:
    conv = Conversation(ConversationSettings())
    assert now(conv) is State.OFFLINE
    effects = conv.handle(tap())
    assert sent(effects) == [m.PlayEarcon("OFFLINE")]
    assert now(conv) is State.OFFLINE
    effects = conv.handle(m.ProviderOnline())
    assert now(conv) is State.IDLE
    assert Transition(State.OFFLINE, State.IDLE, "provider ready") in effects


def test_tap_opens_the_mic_after_the_earcon() -> None:
    conv, clock = online(ConversationSettings(earcon_ms=200, listen_timeout_s=5))
    effects = conv.handle(tap())
    assert now(conv) is State.LISTENING
    messages = sent(effects)
    assert messages.index(m.PlayEarcon("WAKE")) < messages.index(m.OpenMic(clock.now + 200_000_000))
    assert arms(effects)[0].seconds == 5


def test_voice_end_commits_and_waits_for_the_answer() -> None:
    conv, _ = online(ConversationSettings(thinking_timeout_s=9))
    conv.handle(tap())
    conv.handle(m.SpeechStarted(at_ns=5))
    effects = conv.handle(m.SpeechStopped(at_ns=77))
    assert now(conv) is State.THINKING
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CommitTurn(77))]
    assert sent(effects, SESSION) == []
    assert arms(effects)[0].seconds == 9


def test_full_turn_returns_to_idle_without_follow_up() -> None:
    conv, _ = online()
    conv.handle(m.WakeDetected("okay_nabu"))
    conv.handle(m.SpeechStarted())
    conv.handle(m.SpeechStopped())
    conv.handle(m.ReplyAudioStarted("r1"))
    assert now(conv) is State.SPEAKING
    conv.handle(m.ReplyFinished("r1", "completed", had_audio=True))
    assert now(conv) is State.SPEAKING  # still playing
    effects = conv.handle(m.ReplyPlayed("r1"))
    assert now(conv) is State.IDLE
    assert any(isinstance(e, Disarm) for e in effects)


def test_follow_up_window_reopens_the_mic_quietly_and_times_out_with_done() -> None:
    conv, _ = online(ConversationSettings(follow_up_s=3))
    conv.handle(tap())
    conv.handle(m.SpeechStarted())
    conv.handle(m.SpeechStopped())
    conv.handle(m.ReplyAudioStarted("r1"))
    effects = conv.handle(m.ReplyPlayed("r1"))
    assert now(conv) is State.LISTENING
    assert m.PlayEarcon("WAKE") not in sent(effects)
    assert any(isinstance(x, m.OpenMic) for x in sent(effects, LISTENER))
    arm = arms(effects)[0]
    assert arm.seconds == 3
    effects = conv.handle(m.Deadline(arm.token))
    assert now(conv) is State.IDLE
    assert m.PlayEarcon("DONE") in sent(effects)
    assert m.CloseMic(then=m.CancelTurn()) in sent(effects, LISTENER)


def test_push_to_talk_commits_on_release_even_mid_speech() -> None:
    conv, _ = online()
    conv.handle(m.ButtonPressed(m.Press.HOLD_START))
    conv.handle(m.SpeechStarted())
    conv.handle(m.SpeechStopped())  # a pause while still holding: no commit
    assert now(conv) is State.LISTENING
    effects = conv.handle(m.ButtonPressed(m.Press.HOLD_END, at_ns=42))
    assert now(conv) is State.THINKING
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CommitTurn(42))]


def test_release_without_speech_cancels_the_turn() -> None:
    conv, _ = online()
    conv.handle(m.ButtonPressed(m.Press.HOLD_START))
    effects = conv.handle(m.ButtonPressed(m.Press.HOLD_END))
    assert now(conv) is State.IDLE
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CancelTurn())]


def test_nobody_speaking_times_out_back_to_idle() -> None:
    conv, _ = online()
    arm = arms(conv.handle(tap()))[0]
    effects = conv.handle(m.Deadline(arm.token))
    assert now(conv) is State.IDLE
    assert m.CloseMic(then=m.CancelTurn()) in sent(effects, LISTENER)


def test_a_stale_deadline_is_ignored() -> None:
    conv, _ = online()
    old = arms(conv.handle(tap()))[0]
    conv.handle(m.SpeechStarted())  # re-arms with a new token
    assert conv.handle(m.Deadline(old.token)) == []
    assert now(conv) is State.LISTENING


def test_overlong_utterance_is_committed_once_the_user_is_quiet() -> None:
    conv, _ = online(ConversationSettings(max_utterance_s=2))
    conv.handle(tap())
    arm = arms(conv.handle(m.SpeechStarted()))[0]
    assert arm.seconds == 2
    conv.handle(m.SpeechStopped(by=m.PROVIDER))  # quiet, but the hub's endpoint is not due
    effects = conv.handle(m.Deadline(arm.token))
    assert now(conv) is State.THINKING
    assert [type(x) for x in sent(effects, LISTENER)] == [m.CloseMic]


def test_a_monologue_is_split_into_turns_with_the_mic_left_open() -> None:
    conv, clock = online(ConversationSettings(max_utterance_s=2))
    conv.handle(tap())
    arm = arms(conv.handle(m.SpeechStarted()))[0]
    for _ in range(3):  # still speaking at every deadline: commit so far, go on listening
        clock.now += 2_000_000_000
        effects = conv.handle(m.Deadline(arm.token))
        assert now(conv) is State.LISTENING
        [split] = sent(effects, LISTENER)
        assert isinstance(split, m.SplitTurn) and split.then.speech_end_ns == clock.now
        [arm] = arms(effects)
        assert arm.seconds == 2
    # the answer to an earlier part starts while the user talks on: it is not played
    effects = conv.handle(m.ReplyAudioStarted("r1"))
    assert [type(x) for x in sent(effects)] == [m.FlushPlayback]
    assert now(conv) is State.LISTENING
    effects = conv.handle(m.SpeechStopped())
    assert now(conv) is State.THINKING
    [close] = sent(effects, LISTENER)  # talking that long may be the room: screened
    assert isinstance(close, m.CloseMic) and isinstance(close.then, m.CommitTurn)
    assert close.then.screened


def test_speech_while_thinking_continues_the_turn() -> None:
    conv, _ = thinking()
    assert now(conv) is State.THINKING
    effects = conv.handle(m.SpeechStarted(at_ns=30))
    assert now(conv) is State.LISTENING
    assert [type(x) for x in sent(effects, PLAYBACK)] == [m.FlushPlayback]
    assert sent(effects, LISTENER) == [m.OpenMic(30, resume=True)]
    effects = conv.handle(m.SpeechStopped(at_ns=40))  # one commit for the whole turn
    assert now(conv) is State.THINKING
    assert sent(effects, LISTENER) == [m.CloseMic(then=m.CommitTurn(40))]


def test_with_provider_turns_the_hub_leaves_thinking_to_the_provider() -> None:
    conv, _ = online(ConversationSettings(server_turns=True))
    conv.handle(m.SpeechStarted(by=m.PROVIDER))
    conv.handle(m.SpeechStopped(by=m.PROVIDER))
    assert now(conv) is State.THINKING
    assert conv.handle(m.SpeechStarted(at_ns=5)) == []  # the hub's VAD: not its call
    effects = conv.handle(m.SpeechStarted(at_ns=6, by=m.PROVIDER))
    assert now(conv) is State.LISTENING
    assert sent(effects) == []  # no cancel, no flush: the provider does that itself


def test_a_level_not_an_edge_barges_in_once_the_speech_is_long_enough() -> None:
    conv, clock = online(ConversationSettings(barge_in_min_speech_ms=250))
    conv.handle(tap())
    conv.handle(m.SpeechStarted())
    conv.handle(m.SpeechStopped())
    assert now(conv) is State.THINKING
    conv.handle(m.SpeechStarted(at_ns=clock.now, by=m.PROVIDER))  # heard, yet no resume
    clock.now += 100_000_000
    effects = conv.handle(m.ReplyAudioStarted("r1"))  # 100 ms of speech under way
    assert now(conv) is State.SPEAKING
    check = arms(effects)[-1]
    assert check.seconds == pytest.approx(0.15)
    clock.now += 150_000_000
    effects = conv.handle(m.Deadline(check.token))
    assert now(conv) is State.LISTENING
    assert [type(x) for x in sent(effects, PLAYBACK)] == [m.FlushPlayback]


def test_speech_shorter_than_the_barge_in_minimum_does_not_interrupt() -> None:
    conv = speaking(ConversationSettings(barge_in_min_speech_ms=250, speaking_timeout_s=60))
    clock = conv._clock
    assert isinstance(clock, Clock)
    effects = conv.handle(m.SpeechStarted(at_ns=clock.now))
    check = arms(effects)[0]
    assert now(conv) is State.SPEAKING
    clock.now += 100_000_000
    effects = conv.handle(m.SpeechStopped(at_ns=clock.now))
    assert now(conv) is State.SPEAKING
    assert arms(effects)[0].seconds == pytest.approx(58.9)  # the answer's own timeout again
    assert conv.handle(m.Deadline(check.token)) == []  # the check is stale


def test_the_follow_up_window_stays_open_while_the_user_speaks() -> None:
    conv = speaking(ConversationSettings(follow_up_s=3, max_utterance_s=20,
                                         barge_in_min_speech_ms=5000))
    clock = conv._clock
    assert isinstance(clock, Clock)
    conv.handle(m.SpeechStarted(at_ns=clock.now - 1))  # too short to barge in yet
    effects = conv.handle(m.ReplyPlayed("r1"))
    assert now(conv) is State.LISTENING
    assert arms(effects)[-1].seconds == 20  # not the 3 s window: they are talking
    assert m.OpenMic(clock.now - 1) in sent(effects, LISTENER)


def test_an_unanswered_turn_without_a_trigger_ends_in_idle() -> None:
    conv = speaking(ConversationSettings(follow_up_s=3))
    conv.handle(m.ReplyPlayed("r1"))  # follow-up window: the room talks
    conv.handle(m.SpeechStarted())
    effects = conv.handle(m.SpeechStopped())
    [close] = sent(effects, LISTENER)
    assert isinstance(close, m.CloseMic) and isinstance(close.then, m.CommitTurn)
    assert close.then.screened
    conv.handle(m.ReplyFinished("r2", "not_a_request", had_audio=False))
    assert now(conv) is State.IDLE  # no new follow-up window for the room


def test_no_answer_in_time_flushes_and_plays_error() -> None:
    conv, _ = online()
    conv.handle(tap())
    conv.handle(m.SpeechStarted())
    arm = arms(conv.handle(m.SpeechStopped()))[0]
    effects = conv.handle(m.Deadline(arm.token))
    assert now(conv) is State.IDLE
    assert any(isinstance(x, m.FlushPlayback) for x in sent(effects, PLAYBACK))
    assert m.PlayEarcon("ERROR") in sent(effects)


def speaking(settings: ConversationSettings | None = None) -> Conversation:
    """An answer playing for a second (speech from now on can be a reaction to it)."""
    conv, clock = online(settings)
    conv.handle(tap())
    conv.handle(m.SpeechStarted(at_ns=clock.now))
    conv.handle(m.SpeechStopped(at_ns=clock.now))
    conv.handle(m.ReplyAudioStarted("r1"))
    assert now(conv) is State.SPEAKING
    clock.now += 1_000_000_000
    return conv


def test_voice_during_the_answer_barges_in_and_listens_from_the_voice_start() -> None:
    conv = speaking()
    clock = conv._clock
    assert isinstance(clock, Clock)
    start = clock.now - 300_000_000
    effects = conv.handle(m.SpeechStarted(at_ns=start))
    assert now(conv) is State.LISTENING
    assert isinstance(sent(effects, PLAYBACK)[0], m.FlushPlayback)
    assert m.OpenMic(start) in sent(effects, LISTENER)
    assert m.PlayEarcon("WAKE") not in sent(effects)
    effects = conv.handle(m.SpeechStopped(at_ns=999))  # already heard: the end commits
    assert now(conv) is State.THINKING


def test_barge_in_disabled_keeps_speaking() -> None:
    conv = speaking(ConversationSettings(barge_in=False))
    assert conv.handle(m.SpeechStarted()) == []
    assert now(conv) is State.SPEAKING


def test_tap_interrupts_the_answer() -> None:
    conv = speaking()
    effects = conv.handle(tap())
    assert now(conv) is State.IDLE
    assert [type(x) for x in sent(effects, PLAYBACK)] == [m.FlushPlayback]


def test_double_tap_mutes_from_any_state_and_unmutes() -> None:
    conv = speaking()
    effects = conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))
    assert now(conv) is State.MUTED
    assert m.SetMuted(True) in sent(effects, LISTENER)
    assert m.PlayEarcon("MUTED") in sent(effects)
    assert conv.handle(tap()) == []
    assert conv.handle(m.WakeDetected("x")) == []
    effects = conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))
    assert now(conv) is State.IDLE
    assert m.SetMuted(False) in sent(effects, LISTENER)


def test_provider_drop_mid_answer_goes_offline_with_earcon_and_comes_back() -> None:
    conv = speaking()
    effects = conv.handle(m.ProviderOffline("socket closed"))
    assert now(conv) is State.OFFLINE
    assert m.PlayEarcon("OFFLINE") in sent(effects)
    assert any(isinstance(x, m.FlushPlayback) for x in sent(effects, PLAYBACK))
    conv.handle(m.ProviderOnline(reconnected=True))
    assert now(conv) is State.IDLE


def test_offline_while_muted_stays_muted_and_unmutes_to_offline() -> None:
    conv, _ = online()
    conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))
    conv.handle(m.ProviderOffline("gone"))
    assert now(conv) is State.MUTED
    conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))
    assert now(conv) is State.OFFLINE


def test_actor_restart_resets_to_idle_with_error_earcon() -> None:
    conv = speaking()
    effects = conv.handle(m.ActorRestarted("listener"))
    assert now(conv) is State.IDLE
    assert m.PlayEarcon("ERROR") in sent(effects)


def test_server_turns_keep_the_mic_open_and_follow_the_provider() -> None:
    conv, _ = online(ConversationSettings(server_turns=True))
    conv.handle(m.SpeechStarted(by=m.PROVIDER))
    assert now(conv) is State.LISTENING
    conv.handle(m.SpeechStopped(by=m.PROVIDER))
    assert now(conv) is State.THINKING
    conv.handle(m.ReplyAudioStarted("r"))
    effects = conv.handle(m.SpeechStarted(at_ns=5, by=m.PROVIDER))
    assert now(conv) is State.LISTENING
    assert any(isinstance(x, m.FlushPlayback) for x in sent(effects, PLAYBACK))
    assert m.CloseMic() not in sent(effects, LISTENER)


def test_every_transition_is_reported_with_a_cause() -> None:
    conv, _ = online()
    effects = conv.handle(tap())
    transitions = [e for e in effects if isinstance(e, Transition)]
    assert transitions == [Transition(State.IDLE, State.LISTENING, "tap")]


def test_bad_settings_are_rejected_with_the_name() -> None:
    with pytest.raises(ValueError, match="listen_timeout_s"):
        ConversationSettings(listen_timeout_s=0)


def test_always_listening_with_local_vad_starts_a_turn_on_speech() -> None:
    conv, _ = online(ConversationSettings(vad_turns=True))
    effects = conv.handle(m.SpeechStarted(at_ns=55))
    assert now(conv) is State.LISTENING
    assert m.OpenMic(55) in sent(effects, LISTENER)
    conv.handle(m.SpeechStopped(at_ns=99))
    assert now(conv) is State.THINKING


def test_speech_alone_does_not_start_a_turn_by_default() -> None:
    conv, _ = online()
    assert conv.handle(m.SpeechStarted()) == []
    assert now(conv) is State.IDLE


def test_an_endless_answer_times_out_and_is_stopped() -> None:
    conv, _ = online(ConversationSettings(speaking_timeout_s=60))
    conv.handle(tap())
    conv.handle(m.SpeechStarted())
    conv.handle(m.SpeechStopped())
    arm = arms(conv.handle(m.ReplyAudioStarted("r1")))[0]
    assert arm.seconds == 60
    effects = conv.handle(m.Deadline(arm.token))
    assert now(conv) is State.IDLE
    assert [type(x) for x in sent(effects, PLAYBACK)] == [m.FlushPlayback]


def test_every_waiting_state_has_a_deadline() -> None:
    conv, _ = online()
    for message, state in ((tap(), State.LISTENING), (m.SpeechStarted(), State.LISTENING),
                           (m.SpeechStopped(), State.THINKING),
                           (m.ReplyAudioStarted("r"), State.SPEAKING)):
        effects = conv.handle(message)
        assert now(conv) is state
        assert arms(effects), f"no deadline armed entering {state}"


def test_a_listener_that_starts_late_is_told_the_mic_state() -> None:
    conv, clock = online(ConversationSettings(server_turns=True))
    effects = conv.handle(m.ActorStarted("listener"))
    assert sent(effects, LISTENER) == [m.SetMuted(False), m.OpenMic(clock.now)]
    conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))
    effects = conv.handle(m.ActorStarted("listener"))
    assert sent(effects, LISTENER) == [m.SetMuted(True), m.CloseMic()]
    hub_turns, _ = online()
    effects = hub_turns.handle(m.ActorStarted("listener"))
    assert sent(effects, LISTENER) == [m.SetMuted(False), m.CloseMic()]


def test_spoken_mute_waits_until_the_confirmation_is_heard() -> None:
    conv = speaking()  # the answer "Muted." is playing
    assert conv.handle(m.MuteRequested(True)) == []
    assert now(conv) is State.SPEAKING
    conv.handle(m.ReplyFinished("r1", "completed", had_audio=True))
    effects = conv.handle(m.ReplyPlayed("r1"))
    assert now(conv) is State.MUTED
    assert m.SetMuted(True) in sent(effects, LISTENER)
    # only a double tap unmutes (a muted mic cannot hear "unmute"), and back to IDLE for good
    assert conv.handle(m.MuteRequested(False)) == []
    conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))
    assert now(conv) is State.IDLE
    conv.handle(tap())
    assert now(conv) is State.LISTENING


def test_mute_requested_when_idle_mutes_at_once() -> None:
    conv, _ = online()
    effects = conv.handle(m.MuteRequested(True))
    assert now(conv) is State.MUTED
    assert m.SetMuted(True) in sent(effects, LISTENER)


def test_double_tap_after_a_pending_spoken_mute_does_not_remute_later() -> None:
    conv = speaking()
    conv.handle(m.MuteRequested(True))
    conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))  # muted by hand meanwhile
    conv.handle(m.ButtonPressed(m.Press.DOUBLE_TAP))  # and unmuted
    assert now(conv) is State.IDLE


def test_speech_beginning_in_the_answers_first_moment_continues_the_turn() -> None:
    conv, clock = thinking()
    conv.handle(m.ReplyAudioStarted("r1"))
    answer_at = clock.now
    clock.now += 400_000_000  # its start is confirmed later, when the answer plays
    effects = conv.handle(m.SpeechStarted(at_ns=answer_at + 150_000_000))
    assert now(conv) is State.LISTENING
    assert [type(x) for x in sent(effects, PLAYBACK)] == [m.FlushPlayback]
    assert sent(effects, LISTENER) == [m.OpenMic(answer_at + 150_000_000, resume=True)]


def test_speech_beginning_later_in_the_answer_is_a_barge_in() -> None:
    conv, clock = thinking()
    conv.handle(m.ReplyAudioStarted("r1"))
    answer_at = clock.now
    clock.now += 600_000_000
    effects = conv.handle(m.SpeechStarted(at_ns=answer_at + 300_000_000))
    assert now(conv) is State.LISTENING
    assert sent(effects, LISTENER) == [m.OpenMic(answer_at + 300_000_000)]


def test_speech_going_on_from_the_wake_word_is_the_turn() -> None:
    conv, clock = online()
    conv.handle(m.SpeechStarted(at_ns=clock.now))  # "okay nabu, what time is it"
    effects = conv.handle(m.WakeDetected("okay_nabu"))
    assert now(conv) is State.LISTENING
    assert arms(effects)[-1].seconds == ConversationSettings().max_utterance_s
    effects = conv.handle(m.SpeechStopped(at_ns=clock.now))
    assert now(conv) is State.THINKING  # committed without a new speech start
