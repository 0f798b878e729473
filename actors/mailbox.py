"""A bounded hand-over for audio between a producer thread and an actor.

The producer puts chunks here and ``tell``s the actor a tiny nudge only when the
box was empty, so the actor's inbox never fills with audio and control messages
are handled within one batch. When the consumer falls behind, the oldest audio
is dropped (and counted): stale audio is worth less than fresh audio.
"""

from __future__ import annotations

import threading
from collections import deque

from speech_api import AudioChunk


class AudioMailbox:
    def __init__(self, max_chunks: int = 100) -> None:
        if max_chunks < 1:
            raise ValueError(f"max_chunks must be >= 1, got {max_chunks}")
        self._items: deque[AudioChunk] = deque(maxlen=max_chunks)
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, chunk: AudioChunk) -> bool:
        """Add a chunk; True when the box was empty (the consumer needs a nudge)."""
        with self._lock:
            was_empty = not self._items
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(chunk)
            return was_empty

    def drain(self) -> list[AudioChunk]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
