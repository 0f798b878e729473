"""An interrupt while the hub's own announcer speaks cancels no online response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from actors.engine import Emit
from actors.engines.local import LocalEngine
from runtime.engine_factory import WithAnnouncer
from speech_api import AudioChunk
from speech_api.events import ResponseDone, ResponseStarted


class RecordingEngine:
    """An engine that records interrupts and lets the test speak through its emit."""

    def __init__(self) -> None:
        self.emit: Emit = lambda _event: None
        self.interrupts: list[tuple[bool, list[tuple[str, int]]]] = []

    def start(self, emit: Emit) -> None:
        self.emit = emit

    def send_audio(self, chunk: AudioChunk) -> None:
        pass

    def end_turn(self) -> None:
        pass

    def cancel_turn(self) -> None:
        pass

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        self.interrupts.append((cancel_response, list(heard)))

    def tool_result(self, call_id: str, output: str) -> None:
        pass

    def close(self) -> None:
        pass


def wrapped() -> tuple[WithAnnouncer, RecordingEngine, RecordingEngine]:
    online, announcer = RecordingEngine(), RecordingEngine()
    engine = WithAnnouncer(online, cast(LocalEngine, announcer))
    engine.start(lambda _event: None)
    return engine, online, announcer


def test_a_ring_interrupted_cancels_only_the_announcer() -> None:
    engine, online, announcer = wrapped()
    announcer.emit(ResponseStarted(response_id="local-resp-1"))
    engine.interrupt(True, [("local-resp-1-item-1", 400)])
    assert announcer.interrupts == [(True, [])]
    assert online.interrupts == [(False, [])]  # nothing of its own to cancel or truncate


def test_an_online_answer_interrupted_is_cancelled_and_truncated() -> None:
    engine, online, _announcer = wrapped()
    online.emit(ResponseStarted(response_id="resp_1"))
    engine.interrupt(True, [("item_1", 900)])
    assert online.interrupts == [(True, [("item_1", 900)])]
    online.emit(ResponseDone(response_id="resp_1", status="completed"))
    engine.interrupt(True, [])
    assert online.interrupts[-1] == (False, [])  # that answer had finished
