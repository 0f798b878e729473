"""Waiting on a condition in a test: never a bare sleep standing in for "it has happened"."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_S = 0.01


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Return as soon as ``predicate()`` holds; fail naming ``what`` after ``timeout`` s.

    For state that offers no event to wait on (a mock pin's recorded levels, a file
    something else writes): the poll interval only bounds how late we notice.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)
