"""Fixtures for the hardware driver tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.alsa.alsa_harness import alsa_files  # noqa: F401 - a pytest fixture


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    """Every driver thread a test starts must be stopped and joined by its end."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            return
        time.sleep(0.02)
    raise AssertionError(f"threads left running: {[t.name for t in extra]}")
