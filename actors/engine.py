"""The interface the Session actor drives, one implementation per conversation mode.

An engine owns its provider connection and its own threads (blocking I/O never
runs in an actor's message loop). Whatever the mode, it reports what happens as
provider-neutral :mod:`speech_api.events` (``SessionReady``, ``ConnectionLost``,
``ResponseStarted``, ``AudioDelta``, ``ResponseDone``, ...) through ``emit``, so
the Session's bookkeeping (what was received, what was heard, barge-in
truncation, timing) is the same for realtime, chained and local modes.

Two optional methods, used when an engine has them:

- ``end_turn_screened()``: like ``end_turn`` for a turn that came without a trigger
  (a follow-up, a barge-in by voice): answer only a recognised request, else end the
  turn with ``ResponseDone(status="not_a_request")`` and no audio (local mode).
- ``resume_turn() -> bool``: the user went on speaking after ``end_turn``; drop that
  answer and put the committed audio back in front of the turn, so the next
  ``end_turn`` answers the whole of it. True: the dropped answer will not start. An
  engine without it (realtime) keeps the committed user item; the Session cancels the
  answer and the next commit asks for one answer to both items.
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
