"""One Realtime WebSocket connection over websocket-client (no ``openai`` import).

Connects the way the SDK does (Bearer auth, no Origin, no subprotocol, no beta
header, TLS verification always on for ``wss``), sends JSON text frames
(thread-safe), and receives text frames while keeping the link alive both ways: a
ping after ``ping_interval_s`` with nothing received, or nothing sent (a long answer
streams in while the mic is closed: a server that drops a client silent for tens of
seconds would drop us mid-answer), and :class:`LinkLostError` once nothing at all
has arrived for ``dead_link_after_s``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import FATAL_CODES, PROVIDER, is_retryable, redact
from speech_api.errors import APIError

if TYPE_CHECKING:
    import ssl

    import websocket
else:  # imported by the first connection, after READY (50 ms: see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    ssl = lazy_module("ssl")
    websocket = lazy_module("websocket")

log = logging.getLogger(__name__)


class LinkLostError(Exception):
    """The connection is gone (closed, reset, or silent for too long)."""


class RealtimeLink:
    """A connected Realtime WebSocket; create with :meth:`open`."""

    def __init__(self, ws: websocket.WebSocket, config: OpenAIConfig) -> None:
        self._ws = ws
        self._config = config
        self._last_rx = self._last_tx = time.monotonic()
        self._sending = 0  # sends under way (the pump's and a control frame's)
        self._sending_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, config: OpenAIConfig) -> RealtimeLink:
        """Connect, or raise :class:`APIError` (``retryable`` tells whether to try again)."""
        headers = config.realtime_headers()
        secrets = [h.split(" ", 2)[-1] for h in headers[:1]]
        ws = websocket.WebSocket(
            sslopt={"cert_reqs": ssl.CERT_REQUIRED, "check_hostname": True},
            enable_multithread=True,
        )
        try:
            ws.connect(  # type: ignore[no-untyped-call]
                url,
                header=headers,
                suppress_origin=True,
                timeout=config.connect_timeout_s,
            )
        except websocket.WebSocketBadStatusException as exc:
            raise _handshake_error(exc, secrets) from None
        except (OSError, websocket.WebSocketException) as exc:
            raise APIError(
                redact(
                    f"cannot connect to the OpenAI Realtime API: {type(exc).__name__}: {exc}",
                    secrets,
                ),
                provider=PROVIDER,
                code="connection_error",
                retryable=True,
            ) from None
        ws.settimeout(config.ping_interval_s)
        log.debug("realtime link open: %s", url)  # the owner logs its state changes
        return cls(ws, config)

    def send(self, event: dict[str, Any]) -> None:
        with self._sending_lock:
            self._sending += 1
        try:
            self._ws.send(json.dumps(event, separators=(",", ":")))
        except (OSError, websocket.WebSocketException) as exc:
            raise LinkLostError(f"send failed: {type(exc).__name__}: {exc}") from None
        finally:
            with self._sending_lock:
                self._sending -= 1
                self._last_tx = time.monotonic()

    def receive(self) -> str:
        """The next text frame; pings the server while waiting, raises LinkLostError."""
        while True:
            try:
                opcode, data = self._ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                self._check_alive()
                continue
            except (OSError, websocket.WebSocketException) as exc:
                raise LinkLostError(f"{type(exc).__name__}: {exc}") from None
            self._last_rx = time.monotonic()
            if self._last_rx - self._last_tx >= self._config.ping_interval_s and \
                    not self._sending:  # (a send under way is being heard from)
                self._ping()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                return bytes(data).decode("utf-8", errors="replace")
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise LinkLostError(f"server closed the connection ({_close_reason(data)})")
            if opcode == websocket.ABNF.OPCODE_BINARY:
                log.warning("dropping unexpected binary realtime frame (%d bytes)", len(data))

    def _check_alive(self) -> None:
        quiet = time.monotonic() - self._last_rx
        if quiet >= self._config.dead_link_after_s:
            raise LinkLostError(f"no data from the server for {quiet:.1f} s")
        self._ping()

    def _ping(self) -> None:
        try:
            self._ws.ping()
        except (OSError, websocket.WebSocketException) as exc:
            raise LinkLostError(f"ping failed: {type(exc).__name__}: {exc}") from None
        self._last_tx = time.monotonic()

    def close(self) -> None:
        """Say goodbye, then shut the socket so a ``receive`` or ``send`` blocked in another
        thread wakes. While a send is stuck (a stalled peer), the goodbye would wait behind
        it for the socket timeout: then the socket is shut without one."""
        if not self._sending:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                self._ws.send_close()
        sock = self._ws.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError, websocket.WebSocketException):
            self._ws.shutdown()  # type: ignore[no-untyped-call]


def _handshake_error(exc: websocket.WebSocketBadStatusException, secrets: list[str]) -> APIError:
    status = int(exc.status_code)
    code, message = _error_body(exc.resp_body)
    if status == 401 and code is None:
        code = "invalid_api_key"
    retryable = is_retryable(status, code) and code not in FATAL_CODES
    return APIError(
        redact(f"OpenAI Realtime handshake rejected: {message or 'HTTP ' + str(status)}", secrets),
        provider=PROVIDER,
        status=status,
        code=code,
        retryable=retryable,
    )


def _error_body(body: Any) -> tuple[str | None, str]:
    try:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
        error = json.loads(text)["error"]
        code = error.get("code") or error.get("type")
        return (code if isinstance(code, str) else None), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, ""


def _close_reason(data: bytes) -> str:
    if len(data) >= 2:
        code = int.from_bytes(data[:2], "big")
        return f"code {code} {data[2:].decode('utf-8', errors='replace')}".strip()
    return "no close code"
