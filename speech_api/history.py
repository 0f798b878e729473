"""A chat conversation's history, bounded to the last turns (voice agents, chained engine)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

Message = dict[str, Any]


class ConversationHistory:
    """Turns of chat messages (user, tool exchanges, assistant), at most ``max_turns``.

    A turn's messages are kept or dropped together, so a tool result never
    survives without the call that asked for it.
    """

    def __init__(self, max_turns: int) -> None:
        if max_turns < 0:
            raise ValueError(f"max_turns must be >= 0, got {max_turns}")
        self.max_turns = max_turns
        self._turns: deque[list[Message]] = deque(maxlen=max_turns or None)
        self._lock = threading.Lock()

    def messages(self, instructions: str | None, current: list[Message]) -> list[Message]:
        """The request's messages: system prompt, past turns, then ``current``."""
        with self._lock:
            past = [m for turn in self._turns for m in turn] if self.max_turns else []
        system = [{"role": "system", "content": instructions}] if instructions else []
        return [*system, *past, *current]

    def add_turn(self, messages: list[Message]) -> None:
        if self.max_turns and messages:
            with self._lock:
                self._turns.append(list(messages))

    def clear(self) -> None:
        with self._lock:
            self._turns.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._turns)
