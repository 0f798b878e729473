"""A ConversationEngine that hands every call to an inner engine (base of the wrappers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from actors.engine import ConversationEngine, Emit
from speech_api import AudioChunk
from speech_api.events import RealtimeEvent


class DelegatingEngine:
    def __init__(self, inner: ConversationEngine) -> None:
        self.inner = inner

    def start(self, emit: Emit) -> None:
        self.inner.start(emit)

    def send_audio(self, chunk: AudioChunk) -> None:
        self.inner.send_audio(chunk)

    def end_turn(self) -> None:
        self.inner.end_turn()

    def cancel_turn(self) -> None:
        self.inner.cancel_turn()

    # Optional engine methods (see actors/engine.py): passed on when the inner engine has them.

    def end_turn_screened(self) -> None:
        screen = getattr(self.inner, "end_turn_screened", None)
        if callable(screen):
            screen()
        else:
            self.inner.end_turn()

    def resume_turn(self) -> bool:
        resume = getattr(self.inner, "resume_turn", None)
        return bool(resume()) if callable(resume) else False

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        self.inner.interrupt(cancel_response, heard)

    def tool_result(self, call_id: str, output: str) -> None:
        self.inner.tool_result(call_id, output)

    def close(self) -> None:
        self.inner.close()


class TappedEngine(DelegatingEngine):
    """Shows every event the engine emits to ``on_event`` too (demo output, tests)."""

    def __init__(self, inner: ConversationEngine,
                 on_event: Callable[[RealtimeEvent], None]) -> None:
        super().__init__(inner)
        self.on_event = on_event

    def start(self, emit: Emit) -> None:
        def both(event: RealtimeEvent) -> None:
            self.on_event(event)
            emit(event)

        self.inner.start(both)
