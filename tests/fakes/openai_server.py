"""A fake OpenAI server on 127.0.0.1 that speaks the real wire protocols.

Standard-library HTTP (keep-alive, chunked streaming, SSE) plus a small RFC 6455
WebSocket layer, in background threads on an ephemeral port::

    with FakeOpenAIServer() as server:
        config = OpenAIConfig(api_key=server.api_key, base_url=server.base_url)
        ...                                   # talk to it like to api.openai.com
        server.assert_valid()                 # every frame matched the SDK models

Endpoints: ``POST /v1/audio/transcriptions``, ``POST /v1/audio/speech``,
``POST /v1/chat/completions`` and the Realtime WebSocket ``GET /v1/realtime``
(``?model=`` or ``?intent=transcription``). Every frame received and sent is
recorded in :attr:`frames` and validated against the official SDK's models; a
mismatch is added to :attr:`violations`. Behaviour is scripted through
:attr:`script` (see :mod:`tests.fakes.openai_script`). ``stop()`` closes every
connection and joins every thread it started.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.fakes import openai_validation as check
from tests.fakes.openai_http import FakeHandler, RecordedRequest
from tests.fakes.openai_realtime import RealtimeConnection
from tests.fakes.openai_script import FakeScript

DEFAULT_API_KEY = "sk-fake-test-key-0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Frame:
    """One recorded message: ``direction`` "in" (client->server) or "out"."""

    direction: str
    channel: str  # "realtime" or the HTTP path
    payload: Any
    at: float = field(default_factory=time.monotonic)

    @property
    def type(self) -> str | None:
        return self.payload.get("type") if isinstance(self.payload, dict) else None


class FakeOpenAIServer:
    """Fake OpenAI HTTP + Realtime server; use as a context manager."""

    def __init__(self, *, api_key: str = DEFAULT_API_KEY) -> None:
        self.api_key = api_key
        self.script = FakeScript()
        self.stopping = threading.Event()
        self.frames: list[Frame] = []
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.realtime_connections = 0
        self._pings_of_closed = 0  # pings the ended Realtime connections received
        self._lock = threading.Lock()
        self._live: set[RealtimeConnection] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        # Build the SDK validators now (importing ``openai`` takes seconds on a busy
        # machine): the first session must not be slow because of the fake itself.
        from tests.fakes.openai_validation import warm_up

        warm_up()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None or self._thread is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._thread.join(5)
        self.drop_realtime_connections()
        self._httpd.close_all_connections()
        self._httpd.server_close()  # joins every handler thread
        self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- recording and checks -------------------------------------------------------

    def record(
        self,
        direction: str,
        channel: str,
        payload: Any,
        *,
        validate: bool = True,
        validator: Callable[[Any], list[str]] | None = None,
    ) -> bool:
        """Store a frame; True if it passed validation (or was not validated)."""
        problems: list[str] = []
        if validator is not None:
            problems = validator(payload)
        elif validate and channel == "realtime":
            checker = check.check_client_event if direction == "in" else check.check_server_event
            problems = checker(payload)
        with self._lock:
            self.frames.append(Frame(direction, channel, payload))
            self.violations.extend(f"[{direction} {channel}] {p}" for p in problems)
        return not problems

    def violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)

    def assert_valid(self) -> None:
        """Fail if any frame in either direction broke the protocol."""
        with self._lock:
            problems = list(self.violations)
        if problems:
            raise AssertionError("protocol violations:\n  " + "\n  ".join(problems))

    def frames_of(self, direction: str | None = None, channel: str | None = None) -> list[Frame]:
        with self._lock:
            return [
                f
                for f in self.frames
                if (direction in (None, f.direction)) and (channel in (None, f.channel))
            ]

    def types(self, direction: str, channel: str = "realtime") -> list[str]:
        """The ``type`` of each recorded frame, in order."""
        return [f.type or "<raw>" for f in self.frames_of(direction, channel)]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    def drop_realtime_connections(self) -> int:
        """Cut every live Realtime connection at the TCP level (no close frame)."""
        with self._lock:
            live = list(self._live)
        for conn in live:
            conn.ws.abort()
        return len(live)

    def _register(self, conn: RealtimeConnection, live: bool) -> None:
        with self._lock:
            if live:
                self._live.add(conn)
                self.realtime_connections += 1
            else:
                self._live.discard(conn)
                self._pings_of_closed += conn.ws.pings_received

    @property
    def pings_received(self) -> int:
        """WebSocket pings from clients, over every Realtime connection so far."""
        with self._lock:
            return self._pings_of_closed + sum(c.ws.pings_received for c in self._live)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True

    def __init__(self, fake: FakeOpenAIServer) -> None:
        self.fake = fake
        self._sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), FakeHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._sockets_lock:
            self._sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._sockets_lock:
            self._sockets.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._sockets_lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
