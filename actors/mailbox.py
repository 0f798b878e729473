"""A bounded hand-over for audio between a producer thread and an actor.

The producer puts chunks here and ``tell``s the actor a tiny nudge only when the
box was empty, so the actor's inbox never fills with audio and control messages
are handled within one batch. The consumer may ask for a nudge only once every
``batch`` chunks instead (:meth:`set_batch`): each wake-up of an actor's thread costs
far more than the work of one 20 ms chunk (cold caches, the actor loop), so an idle
Listener takes its audio three chunks at a time. When the consumer falls behind, the oldest audio
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
        self._batch = 1
        self._nudged = False  # a nudge went out since the last drain

    def put(self, chunk: AudioChunk) -> bool:
        """Add a chunk; True when the consumer needs a nudge: the box holds ``batch``
        chunks (with a batch of 1: it was empty) and none went out since its last drain."""
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(chunk)
            if self._nudged or len(self._items) < self._batch:
                return False
            self._nudged = True
            return True

    def set_batch(self, chunks: int) -> None:
        """Nudge once ``chunks`` chunks wait (from the next put on: a consumer that lowers
        the batch drains what already waits itself, or it waits for that put)."""
        if chunks < 1:
            raise ValueError(f"batch must be >= 1 chunk, got {chunks}")
        with self._lock:
            self._batch = min(chunks, self._items.maxlen or chunks)

    def drain(self) -> list[AudioChunk]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._nudged = False
            return items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._nudged = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
