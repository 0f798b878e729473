"""The ``wyoming`` library is asyncio; the hub's engines are blocking code on actor threads.

:class:`LoopThread` runs coroutines on an asyncio loop in a thread of its own and
hands their results (or a stream of items) back to the calling thread, every wait
bounded by a timeout. The thread lives only while work is in flight: with nothing
to do it stops, so an idle client holds no thread and needs no ``close()``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")

_END = object()


class LoopThread:
    """Runs coroutines on its own event loop thread (started on demand, stopped when idle)."""

    def __init__(self, name: str = "wyoming-loop") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy = 0

    def run(self, make: Callable[[], Coroutine[Any, Any, T]], timeout_s: float) -> T:
        """``make()``'s result; ``TimeoutError`` (the coroutine cancelled) after ``timeout_s``."""
        future = self._submit(make)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout_s:.0f} s") from None
        finally:
            self._release()

    def iterate(self, make: Callable[[], AsyncIterator[T]],
                item_timeout_s: float) -> Generator[T, None, None]:
        """The items of ``make()`` as they come; closing the iterator cancels the producer.

        ``TimeoutError`` when no item (nor the end) arrives within ``item_timeout_s``.
        """
        items: queue.Queue[object] = queue.Queue(maxsize=64)

        async def pump() -> None:
            try:
                async for item in make():
                    await _put(items, item)
            except Exception as exc:  # noqa: BLE001  # re-raised on the consumer's side
                await _put(items, exc)
            else:
                await _put(items, _END)

        future = self._submit(pump)
        try:
            while True:
                try:
                    item = items.get(timeout=item_timeout_s)
                except queue.Empty:
                    raise TimeoutError(f"nothing within {item_timeout_s:.0f} s") from None
                if item is _END:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item  # type: ignore[misc]  # the queue holds T between the markers
        finally:
            future.cancel()
            self._release()

    def start(self, make: Callable[[], Coroutine[Any, Any, T]]) -> concurrent.futures.Future[T]:
        """Run ``make()`` in the background (the thread lives until it ends); cancel the
        returned future to stop it."""
        future, loop = self._submit_on(make)
        # registered on the loop, after run_coroutine_threadsafe chained the future there:
        # a cancel then reaches the coroutine before the release may stop (and close) the
        # loop; registered from here, it could run first ("Event loop is closed")
        loop.call_soon_threadsafe(future.add_done_callback, lambda _: self._release())
        return future

    def call_soon(self, callback: Callable[[], object]) -> bool:
        """Run ``callback`` on the loop thread (never blocks); False when no loop runs."""
        with self._lock:
            loop = self._loop
            if loop is None:
                return False
            loop.call_soon_threadsafe(callback)
            return True

    def _submit(self, make: Callable[[], Coroutine[Any, Any, T]]) -> concurrent.futures.Future[T]:
        return self._submit_on(make)[0]

    def _submit_on(self, make: Callable[[], Coroutine[Any, Any, T]],
                   ) -> tuple[concurrent.futures.Future[T], asyncio.AbstractEventLoop]:
        """The running coroutine's future, and the loop it runs on (busy until released)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=_serve, args=(self._loop,), name=self.name,
                                 daemon=True).start()
            self._busy += 1
            return asyncio.run_coroutine_threadsafe(make(), self._loop), self._loop

    def _release(self) -> None:
        with self._lock:
            self._busy -= 1
            if self._busy or self._loop is None:
                return
            loop, self._loop = self._loop, None
        loop.call_soon_threadsafe(loop.stop)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        # what was cancelled as the last caller left gets to finish its clean-up
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())  # to_thread's workers
    finally:
        loop.close()


async def _put(items: queue.Queue[object], item: object) -> None:
    """Hand ``item`` over without blocking the loop (the consumer may be slow)."""
    while True:
        try:
            items.put_nowait(item)
            return
        except queue.Full:
            await asyncio.sleep(0.01)
