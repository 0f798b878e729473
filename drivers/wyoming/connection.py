"""One Wyoming exchange: connect to a server, send events, read its answer.

Shared by the STT and TTS clients (and the wake-word client). Connection problems
and silences become :class:`speech_api.APIError` (retryable) naming the server,
so a caller sees the same errors as from any other provider.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from wyoming.client import AsyncClient
from wyoming.event import Event, Eventable

from speech_api.errors import APIError

PROVIDER = "wyoming"


def check_uri(uri: str) -> str:
    """``uri`` if it is a Wyoming address this hub can reach (tcp://host:port or unix://)."""
    parts = urlsplit(uri)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return uri
    if parts.scheme == "unix" and parts.path:
        return uri
    raise ValueError(f"expected a Wyoming address tcp://host:port or unix:///path, found {uri!r}")


def unreachable(uri: str, exc: BaseException) -> APIError:
    reason = "no answer in time" if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) \
        else (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
    return APIError(f"Wyoming server {uri}: {reason}", provider=PROVIDER, code="unreachable",
                    retryable=True)


@asynccontextmanager
async def connected(uri: str, connect_timeout_s: float,
                    read_timeout_s: float | None) -> AsyncIterator[AsyncClient]:
    """A connected client; connection failures raised as :class:`APIError`."""
    client = AsyncClient.from_uri(uri, connect_timeout=connect_timeout_s,
                                  read_timeout=read_timeout_s)
    try:
        await client.connect()
    except (OSError, TimeoutError) as exc:
        raise unreachable(uri, exc) from None
    try:
        yield client
    finally:
        with contextlib.suppress(OSError):  # the server hung up first: nothing to close
            await client.disconnect()


async def send_all(client: AsyncClient, events: Iterable[Eventable]) -> None:
    for event in events:
        await client.write_event(event.event())


async def next_event(client: AsyncClient, uri: str) -> Event:
    """The server's next event; :class:`APIError` when it hangs up or falls silent."""
    try:
        event = await client.read_event()
    except (OSError, TimeoutError) as exc:
        raise unreachable(uri, exc) from None
    if event is None:
        raise APIError(f"Wyoming server {uri} closed the connection", provider=PROVIDER,
                       code="closed", retryable=True)
    return event
