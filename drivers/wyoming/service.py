"""What every Wyoming client engine shares: the server's address, its timeouts, the loop
thread, ``describe`` and a timed stream of the server's answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from wyoming.info import Describe, Info

from drivers.wyoming.connection import PROVIDER, check_uri, connected, next_event, send_all
from drivers.wyoming.loop import LoopThread
from speech_api.errors import APIError

T = TypeVar("T")


class WyomingService:
    def __init__(self, uri: str, *, connect_timeout_s: float, timeout_s: float,
                 loop: LoopThread | None, thread_name: str) -> None:
        self.uri = check_uri(uri)
        self.connect_timeout_s = connect_timeout_s
        self.timeout_s = timeout_s
        self._loop = loop or LoopThread(thread_name)

    def describe(self) -> Info:
        """The server's ``info`` (its programs, models, voices and languages)."""
        async def ask() -> Info:
            async with connected(self.uri, self.connect_timeout_s, self.timeout_s) as client:
                await send_all(client, [Describe()])
                while True:
                    event = await next_event(client, self.uri)
                    if Info.is_type(event.type):
                        return Info.from_event(event)

        return self._loop.run(ask, self.timeout_s + self.connect_timeout_s)

    def _stream(self, make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
        """``make()``'s items as they come; a silent server is a retryable :class:`APIError`."""
        items = self._loop.iterate(make, self.timeout_s)
        try:
            yield from items
        except TimeoutError as exc:
            raise APIError(f"Wyoming server {self.uri}: {exc}", provider=PROVIDER,
                           code="timeout", retryable=True) from None
        finally:
            items.close()
