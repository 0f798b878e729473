"""One re-armable deadline on one thread (state timeouts, restart backoff)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class DeadlineTimer:
    """Calls ``fire(token)`` once the armed deadline passes, unless re-armed or disarmed first.

    One thread for the object's whole life; ``close()`` stops and joins it.
    """

    def __init__(self, fire: Callable[[int], None], name: str = "deadline") -> None:
        self._fire = fire
        self._cond = threading.Condition()
        self._due: float | None = None
        self._token = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def arm(self, seconds: float, token: int) -> None:
        with self._cond:
            self._due = time.monotonic() + max(0.0, seconds)
            self._token = token
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._due = None
            self._cond.notify()

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._due is None or time.monotonic() < self._due):
                    wait = None if self._due is None else self._due - time.monotonic()
                    self._cond.wait(wait)
                if self._closed:
                    return
                token, self._due = self._token, None
            self._fire(token)
