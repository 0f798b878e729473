"""The fallback's rules on their own: a stand-in online engine, the real local engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from actors.engine import Emit
from actors.engines.fallback import FallbackEngine
from actors.engines.link import ProviderLink
from speech_api import AudioChunk
from speech_api import events as ev
from tests.modes.modetest import Events, local_engine, skills_at_fixed_time, utterance

OFFLINE_TIME = "I'm offline, I can still tell the time and set timers. It's 10:30 AM."


class OnlineStandIn:
    """Records what the fallback asks of the online side; the test moves the link."""

    def __init__(self) -> None:
        self.emit: Emit | None = None
        self.calls: list[str] = []

    def start(self, emit: Emit) -> None:
        self.emit = emit

    def send_audio(self, chunk: AudioChunk) -> None:
        if not self.calls or self.calls[-1] != "audio":
            self.calls.append("audio")

    def end_turn(self) -> None:
        self.calls.append("end_turn")

    def cancel_turn(self) -> None:
        self.calls.append("cancel_turn")

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        self.calls.append("interrupt")

    def tool_result(self, call_id: str, output: str) -> None:
        self.calls.append("tool_result")

    def close(self) -> None:
        self.calls.append("close")


@dataclass
class Rig:
    events: Events
    link: ProviderLink
    online: OnlineStandIn
    fallback: FallbackEngine

    def say(self, text: str) -> None:
        for chunk in utterance(text):
            self.fallback.send_audio(chunk)
        self.fallback.end_turn()

    def emit(self, event: ev.RealtimeEvent) -> None:
        assert self.online.emit is not None
        self.online.emit(event)


@contextmanager
def fallback_rig(*, per_request: bool) -> Iterator[Rig]:
    """A started fallback over the stand-in and the real local engine; closed after."""
    events, link, online = Events(), ProviderLink(), OnlineStandIn()
    with skills_at_fixed_time() as skills:
        fallback = FallbackEngine(online, local_engine(skills), link, per_request=per_request)
        fallback.start(events)
        try:
            yield Rig(events, link, online, fallback)
        finally:
            fallback.close()


def test_the_first_failed_attempt_makes_the_hub_ready_and_answers_locally() -> None:
    with fallback_rig(per_request=False) as rig:
        rig.link.failed("invalid_api_key", fatal=True)  # what the realtime engine does ...
        rig.emit(ev.ProviderError(message="invalid_api_key", fatal=True))  # ... and says
        rig.events.wait(lambda items: len(items) >= 1, 5, "ready")
        rig.say("what time is it")
        rig.events.wait(rig.events.done(), 30, "the offline answer")
    kinds = [type(e).__name__ for e in rig.events.items]
    assert kinds[0] == "SessionReady" and "ProviderError" not in kinds
    done = rig.events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone)
    assert done.transcript == OFFLINE_TIME
    assert rig.online.calls == ["close"]  # the offline turn never went to the provider
    assert rig.link.snapshot()["offline_turns"] == 1


def test_a_question_cut_off_by_a_drop_is_answered_locally_at_once() -> None:
    with fallback_rig(per_request=False) as rig:
        rig.link.ready()
        rig.emit(ev.SessionReady())
        rig.say("what time is it")  # goes online ...
        rig.link.failed("connection reset")
        rig.emit(ev.ConnectionLost(reason="connection reset"))  # ... and is cut off
        rig.events.wait(rig.events.done(), 30, "the rescued answer")
    assert rig.online.calls[:2] == ["audio", "end_turn"]
    kinds = [type(e).__name__ for e in rig.events.items]
    assert "ConnectionLost" not in kinds  # the conversation never went deaf
    done = rig.events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone)
    assert done.transcript == OFFLINE_TIME


def test_a_failed_per_request_turn_is_answered_locally_and_its_late_end_dropped() -> None:
    with fallback_rig(per_request=True) as rig:
        rig.emit(ev.SessionReady())
        rig.say("what time is it")
        rig.link.failed("HTTP 500")
        assert not rig.link.may_try()  # the backoff: the next turn stays local for ~1 s
        rig.emit(ev.ProviderError(message="HTTP 500", fatal=False))
        rig.emit(ev.ResponseDone(response_id="chained-1", status="failed"))
        rig.events.wait(rig.events.done(), 30, "the rescued answer")
    dones = rig.events.of(ev.ResponseDone)
    assert len(dones) == 1 and isinstance(dones[0], ev.ResponseDone)
    assert dones[0].transcript == OFFLINE_TIME


def _answers(rig: Rig) -> list[str]:
    return [e.transcript for e in rig.events.of(ev.ResponseDone)
            if isinstance(e, ev.ResponseDone) and e.transcript]


def test_offline_a_speaker_who_goes_on_after_the_commit_is_answered_once_for_the_whole_turn(
) -> None:
    with fallback_rig(per_request=False) as rig:
        rig.link.failed("connection refused")
        rig.emit(ev.ConnectionLost(reason="connection refused"))
        rig.say("set a timer for")  # committed at the pause ...
        assert rig.fallback.resume_turn()  # ... but the speaker was not done
        rig.say("ten minutes")
        rig.events.wait(lambda _items: bool(_answers(rig)), 30, "the answer")
    answers = _answers(rig)
    assert len(answers) == 1, answers
    assert "10 minute" in answers[0], answers  # the local engine heard the whole turn


def test_online_the_fallbacks_copy_of_a_resumed_turn_is_whole_when_the_provider_fails() -> None:
    with fallback_rig(per_request=True) as rig:
        rig.emit(ev.SessionReady())
        rig.say("set a timer for")  # goes to the provider ...
        assert not rig.fallback.resume_turn()  # (the stand-in cannot take it back itself)
        rig.say("ten minutes")  # ... the speaker goes on, and that request fails
        rig.link.failed("HTTP 500")
        rig.emit(ev.ProviderError(message="HTTP 500", fatal=False))
        rig.events.wait(lambda _items: bool(_answers(rig)), 30, "the rescued answer")
    assert rig.online.calls.count("end_turn") == 2
    answers = _answers(rig)
    assert len(answers) == 1 and "10 minute" in answers[0], answers
