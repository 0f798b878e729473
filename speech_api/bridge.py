"""One implementation, two faces: give synchronous drivers the seed's async face.

The hub's actors are threads and call drivers synchronously. The seed's API is
``await client.transcribe(...)`` and ``async for x in client.transcribe_stream(...)``.
These helpers run the blocking code in a worker thread and hand results,
errors and cancellation across, so no driver needs a second, async implementation.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    import asyncio

# asyncio is imported where it is used: it costs 50 ms of a start-up that has none to
# spare, and the hub (threads, blocking calls) never needs it.

T = TypeVar("T")

_DONE = object()


async def run_blocking(func: Callable[[], T]) -> T:
    """Await a blocking call made in a worker thread.

    Cancelling the awaiting task stops waiting at once; the call itself cannot be
    interrupted and finishes in its thread (callers pass a call with a timeout).
    """
    import asyncio

    return await asyncio.to_thread(func)


class _StopRequestedError(Exception):
    """Raised inside the worker to end a producer after the consumer went away."""


async def iterate_in_thread(
    make_iterator: Callable[[], Iterator[T]],
    *,
    max_pending: int = 64,
    stop_timeout: float = 5.0,
    stop: threading.Event | None = None,
) -> AsyncIterator[T]:
    """Iterate a blocking iterator in a worker thread, as an async iterator.

    - items arrive in order, at most ``max_pending`` ahead of the consumer
      (back-pressure: the worker waits, it does not buffer without bound);
    - an exception in the iterator is raised at the consumer's ``async for``;
    - when the consumer stops early (``break``, cancellation, error) the worker is
      told to stop, the sync iterator's ``close()`` runs in the worker, and this
      waits up to ``stop_timeout`` for the thread to end. An iterator that blocks
      between items can watch ``stop`` (set first) to end sooner.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()  # bounded by `slots`
    stop = stop or threading.Event()
    slots = threading.Semaphore(max_pending)

    def put(item: object) -> None:
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def produce() -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = make_iterator()
            for item in iterator:
                while not slots.acquire(timeout=0.05):
                    if stop.is_set():
                        raise _StopRequestedError
                if stop.is_set():
                    raise _StopRequestedError
                put((True, item))
            put(_DONE)
        except _StopRequestedError:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((False, exc))
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()

    worker = threading.Thread(target=produce, name="speech-api-bridge", daemon=True)
    worker.start()
    try:
        while True:
            entry = await queue.get()
            if entry is _DONE:
                return
            ok, value = cast("tuple[bool, object]", entry)
            if not ok:
                raise cast(BaseException, value)
            slots.release()
            yield cast(T, value)
    finally:
        stop.set()
        await asyncio.to_thread(worker.join, stop_timeout)


def iterate_from_thread(
    source: AsyncIterator[T],
    loop: asyncio.AbstractEventLoop,
    *,
    timeout: float,
    close: bool = True,
) -> Generator[T, None, None]:
    """The other way round, for a worker thread: a blocking iterator over ``source``.

    Each item is fetched on ``loop`` (running in another thread); waiting longer
    than ``timeout`` for one raises ``TimeoutError``. With ``close`` the async
    iterator is closed on ``loop`` when this iterator ends or is closed early.
    """
    import asyncio

    try:
        while True:
            future = asyncio.run_coroutine_threadsafe(_next_or_end(source), loop)
            ok, item = future.result(timeout)
            if not ok:
                return
            yield cast(T, item)
    finally:
        aclose = getattr(source, "aclose", None)
        if close and aclose is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(aclose(), loop).result(timeout)


async def _next_or_end(iterator: AsyncIterator[T]) -> tuple[bool, T | None]:
    try:
        return True, await anext(iterator)
    except StopAsyncIteration:
        return False, None


async def collect(source: AsyncIterator[T]) -> list[T]:
    """All items of an async iterator, in order (handy in scripts and tests)."""
    return [item async for item in source]


def iterate_sync(source: AsyncIterator[T], *, timeout: float | None = None) -> Iterator[T]:
    """The opposite direction: drain an async iterator from synchronous code.

    Runs its own event loop in the calling thread; used by examples and tools that
    are plain scripts. ``timeout`` bounds the wait for each item.
    """
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                item = loop.run_until_complete(asyncio.wait_for(anext(source), timeout))
            except StopAsyncIteration:
                return
            yield item
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(source.aclose())  # type: ignore[attr-defined]
        loop.close()
