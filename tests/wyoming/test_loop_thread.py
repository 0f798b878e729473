"""The asyncio loop thread behind the Wyoming clients and the satellite."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from drivers.wyoming.loop import LoopThread


def test_a_background_coroutine_cancelled_at_once_cleans_up_and_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cancelling what ``start`` runs reaches the coroutine (its clean-up runs) before the
    idle loop stops: never an 'Event loop is closed' from the future's callbacks."""
    caplog.set_level(logging.ERROR)
    cleaned = threading.Semaphore(0)
    runner = LoopThread("test-loop")

    async def serve() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.release()

    for _ in range(300):
        future = runner.start(serve)
        future.cancel()
        assert cleaned.acquire(timeout=10), "the coroutine's clean-up did not run"
    assert [r.getMessage() for r in caplog.records] == []


def test_the_loop_stops_when_the_last_background_job_ends() -> None:
    runner = LoopThread("test-loop-idle")

    async def quick() -> int:
        return 7

    assert runner.start(quick).result(timeout=10) == 7
    for _ in range(500):
        if not any(t.name == "test-loop-idle" for t in threading.enumerate()):
            break
        threading.Event().wait(0.01)
    assert not any(t.name == "test-loop-idle" for t in threading.enumerate())
