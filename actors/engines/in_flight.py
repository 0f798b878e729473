"""Which of one engine's responses are under way, as its own events tell."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from actors.engine import Emit
from speech_api.events import ConnectionLost, RealtimeEvent, ResponseDone, ResponseStarted


class ResponsesInFlight:
    """Started and not yet done: a wrapper with two engines (an online one and a local
    announcer) asks the online one to cancel only a response of its own, since a provider
    answers a cancel with nothing to cancel with an error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[str] = set()

    def see(self, event: RealtimeEvent) -> None:
        with self._lock:
            match event:
                case ResponseStarted(response_id=rid):
                    self._open.add(rid)
                case ResponseDone(response_id=rid):
                    self._open.discard(rid)
                case ConnectionLost():
                    self._open.clear()  # a new session has none of them

    def watching(self, emit: Emit) -> Emit:
        def watched(event: RealtimeEvent) -> None:
            self.see(event)
            emit(event)

        return watched

    @property
    def any(self) -> bool:
        with self._lock:
            return bool(self._open)


def online_items(heard: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """The heard items an online engine knows: the local engine's ("local-...") are its own."""
    return [h for h in heard if not h[0].startswith("local")]
