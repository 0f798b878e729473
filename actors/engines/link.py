"""What the hub knows about its online provider, for ``maigic status`` and the fallback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class ProviderLink:
    """Thread-safe record: reachable or not, since when, the last error, error counts.

    ``online`` is None until something was learnt (and stays None in local mode).
    Times are wall-clock (``time.time()``) so the status output can show them.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._online: bool | None = None
        self._since = clock()
        self._last_error: str | None = None
        self._errors = 0
        self._offline_turns = 0

    @property
    def online(self) -> bool | None:
        with self._lock:
            return self._online

    def set_online(self, online: bool, error: str | None = None) -> bool:
        """Record the state; True when it changed."""
        with self._lock:
            if error is not None:
                self._last_error = error
                self._errors += 1
            changed = self._online is not online
            if changed:
                self._online = online
                self._since = self._clock()
            return changed

    def error(self, message: str) -> None:
        with self._lock:
            self._last_error = message
            self._errors += 1

    def offline_turn(self) -> None:
        with self._lock:
            self._offline_turns += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "online": self._online,
                "since": self._since,
                "last_error": self._last_error,
                "errors": self._errors,
                "offline_turns": self._offline_turns,
            }
