"""Jittered exponential backoff shared by every reconnect and reopen loop.

A device that vanished or a connection that dropped is retried after a delay that
grows ``initial * factor**n`` up to ``maximum``; a random jitter of ``+-jitter`` (a
fraction of the delay) keeps several loops from retrying in lock-step. Call
:meth:`Backoff.reset` after a success so the next failure starts small again.

Thread-safe: one instance may be shared, although usually each loop owns one.
"""

from __future__ import annotations

import random
import threading


class Backoff:
    """Delays for retrying: ``next_delay()`` after each failure, ``reset()`` after a success."""

    def __init__(
        self,
        initial: float = 0.2,
        maximum: float = 10.0,
        factor: float = 2.0,
        jitter: float = 0.2,
        *,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0:
            raise ValueError(f"Backoff initial delay must be > 0 seconds, got {initial}")
        if maximum < initial:
            raise ValueError(
                f"Backoff maximum ({maximum}) must be >= the initial delay ({initial})"
            )
        if factor < 1:
            raise ValueError(f"Backoff factor must be >= 1, got {factor}")
        if not 0 <= jitter < 1:
            raise ValueError(f"Backoff jitter must be a fraction in [0, 1), got {jitter}")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._attempts = 0

    @property
    def attempts(self) -> int:
        """Failures since the last :meth:`reset`."""
        with self._lock:
            return self._attempts

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; grows with each call."""
        with self._lock:
            # Cap the exponent so factor**n never overflows on a very long outage.
            exponent = min(self._attempts, 64)
            self._attempts += 1
            base = min(self.maximum, self.initial * self.factor**exponent)
            spread = base * self.jitter
            delay = base + self._rng.uniform(-spread, spread)
        return max(0.0, min(self.maximum, delay))

    def reset(self) -> None:
        """Start again from the initial delay (call after a success)."""
        with self._lock:
            self._attempts = 0
