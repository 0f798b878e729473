"""The fallback's outage rules on their own: a stand-in online engine, the real local engine."""

from __future__ import annotations

from collections.abc import Sequence

from actors.engine import Emit
from actors.engines.fallback import FallbackEngine
from actors.engines.link import ProviderLink
from speech_api import AudioChunk
from speech_api import events as ev
from tests.modes.modetest import Events, local_engine, skills_at_fixed_time, utterance


class OnlineStandIn:
    """Records what the fallback asks of the online side; the test emits its events."""

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


def test_a_drop_that_recovers_quickly_is_not_an_outage_and_a_long_one_is() -> None:
    events, link, online = Events(), ProviderLink(), OnlineStandIn()
    with skills_at_fixed_time() as skills:
        fallback = FallbackEngine(online, local_engine(skills), link, retry_online_s=30,
                                  probe_per_turn=False, offline_after_s=0.3)
        fallback.start(events)
        try:
            assert online.emit is not None
            online.emit(ev.SessionReady())
            online.emit(ev.ConnectionLost(reason="blip"))
            online.emit(ev.SessionReady(reconnected=True))  # back within the grace period
            events.wait(lambda items: len(items) >= 3, 5, "the link events")
            assert not fallback.local_mode and link.online is True
            online.emit(ev.ConnectionLost(reason="gone"))
            events.wait(lambda items: len(items) >= 5, 5, "local mode")  # grace period over
            assert fallback.local_mode and link.online is False
            for chunk in utterance("what time is it"):
                fallback.send_audio(chunk)
            fallback.end_turn()
            events.wait(events.done(), 30, "the offline answer")
        finally:
            fallback.close()
    kinds = [type(e).__name__ for e in events.items]
    assert kinds[:5] == ["SessionReady", "ConnectionLost", "SessionReady", "ConnectionLost",
                         "SessionReady"]
    done = events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone)
    assert done.transcript == ("I'm offline, I can still tell the time and set timers. "
                               "It's 10:30 AM.")
    assert online.calls == ["close"]  # the offline turn never went to the provider
    assert link.snapshot()["offline_turns"] == 1


def test_a_fatal_error_goes_offline_at_once_and_answers_the_waiting_turn_locally() -> None:
    events, link, online = Events(), ProviderLink(), OnlineStandIn()
    with skills_at_fixed_time() as skills:
        fallback = FallbackEngine(online, local_engine(skills), link, retry_online_s=30,
                                  probe_per_turn=False)
        fallback.start(events)
        try:
            assert online.emit is not None
            online.emit(ev.SessionReady())
            for chunk in utterance("what time is it"):
                fallback.send_audio(chunk)
            fallback.end_turn()  # goes online ...
            online.emit(ev.ProviderError(message="invalid_api_key", fatal=True))  # ... and fails
            events.wait(events.done(), 30, "the rescued answer")
        finally:
            fallback.close()
    assert online.calls[:2] == ["audio", "end_turn"]
    kinds = [type(e).__name__ for e in events.items]
    assert "ProviderError" not in kinds and "ConnectionLost" not in kinds
    done = events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone)
    assert done.transcript.startswith("I'm offline") and done.transcript.endswith("10:30 AM.")
    assert link.snapshot()["last_error"] == "invalid_api_key"
