"""The check every actor and end-to-end test runs after itself: nothing survives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pykka
import pytest


def _threads_except(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]


@pytest.fixture(autouse=True)
def no_leftover_actors_or_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftover_actors = pykka.ActorRegistry.get_all()
    pykka.ActorRegistry.stop_all(timeout=5)
    deadline = time.monotonic() + 5.0
    while _threads_except(before) and time.monotonic() < deadline:
        time.sleep(0.02)
    leftover_threads = _threads_except(before)
    assert not leftover_actors, f"actors still running after the test: {leftover_actors}"
    assert not leftover_threads, f"threads still running after the test: {leftover_threads}"
