"""A bounded, thread-safe queue of realtime events that never drops control events.

When a slow consumer lets audio pile up, the oldest :class:`AudioDelta` is dropped
(stale speech is worthless); every other event (speech started, response done,
errors) is kept, because losing one would leave the conversation state wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from speech_api.events import AudioDelta, RealtimeEvent

log = logging.getLogger(__name__)


class EventQueue:
    """FIFO of events holding at most ``max_audio`` audio deltas."""

    def __init__(self, max_audio: int = 500) -> None:
        if max_audio < 1:
            raise ValueError(f"max_audio must be >= 1, got {max_audio}")
        self._max_audio = max_audio
        self._items: deque[RealtimeEvent] = deque()
        self._audio = 0
        self._cond = threading.Condition()
        self.dropped_audio = 0

    def put(self, event: RealtimeEvent) -> None:
        with self._cond:
            if isinstance(event, AudioDelta):
                if self._audio >= self._max_audio:
                    self._drop_oldest_audio()
                self._audio += 1
            self._items.append(event)
            self._cond.notify()

    def get(self, timeout: float) -> RealtimeEvent | None:
        """The next event, or None after ``timeout`` seconds without one."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while not self._items:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            event = self._items.popleft()
            if isinstance(event, AudioDelta):
                self._audio -= 1
            return event

    def clear_audio(self) -> int:
        """Drop every queued audio delta (e.g. after barge-in); returns how many."""
        with self._cond:
            kept = deque(e for e in self._items if not isinstance(e, AudioDelta))
            dropped = len(self._items) - len(kept)
            self._items = kept
            self._audio = 0
            return dropped

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def _drop_oldest_audio(self) -> None:
        for index, item in enumerate(self._items):
            if isinstance(item, AudioDelta):
                del self._items[index]
                self._audio -= 1
                self.dropped_audio += 1
                if self.dropped_audio == 1 or self.dropped_audio % 100 == 0:
                    log.warning(
                        "realtime consumer too slow: dropped %d old audio deltas so far",
                        self.dropped_audio,
                    )
                return
