"""The interface the Session actor drives, one implementation per conversation mode.

An engine owns its provider connection and its own threads (blocking I/O never
runs in an actor's message loop). Whatever the mode, it reports what happens as
provider-neutral :mod:`speech_api.events` (``SessionReady``, ``ConnectionLost``,
``ResponseStarted``, ``AudioDelta``, ``ResponseDone``, ...) through ``emit``, so
the Session's bookkeeping (what was received, what was heard, barge-in
truncation, timing) is the same for realtime, chained and local modes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from speech_api import AudioChunk
from speech_api.events import RealtimeEvent

Emit = Callable[[RealtimeEvent], None]


class ConversationEngine(Protocol):
    def start(self, emit: Emit) -> None:
        """Connect in the background and report events through ``emit`` (any thread)."""

    def send_audio(self, chunk: AudioChunk) -> None:
        """User audio of the current turn (dropped while not connected)."""

    def end_turn(self) -> None:
        """The user finished speaking: produce an answer."""

    def cancel_turn(self) -> None:
        """Forget the user audio sent since the last end_turn."""

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        """Barge-in: stop the answer (if ``cancel_response``) and record that only
        ``heard`` (item id, ms actually played; already clamped, never 0) reached the user."""

    def tool_result(self, call_id: str, output: str) -> None:
        """Answer a FunctionCall event and let the model continue."""

    def close(self) -> None:
        """Disconnect and join the engine's threads; idempotent."""
