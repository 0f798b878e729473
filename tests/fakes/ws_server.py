"""The server side of RFC 6455 WebSockets, small enough to read in one sitting.

Used by the fake OpenAI server on top of ``http.server``: :func:`accept_key` for
the handshake, then :class:`ServerWebSocket` to read client frames (which must be
masked), answer pings, reassemble fragments, and send text and close frames from
any thread.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import socket
import struct
import threading
from collections.abc import Callable

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE = 32 * 1024 * 1024


class ProtocolViolationError(Exception):
    """The client broke the WebSocket protocol (e.g. sent an unmasked frame)."""


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def _unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return data
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class ServerWebSocket:
    """An accepted connection: ``receive()`` in one thread, ``send_*`` from any."""

    def __init__(self, sock: socket.socket, rfile: io.BufferedIOBase) -> None:
        self._sock = sock
        self._rfile = rfile
        self._send_lock = threading.Lock()
        self.closed = False
        self.pings_received = 0
        # Returning False plays a peer that went silent (a dead link).
        self.answer_pings: Callable[[], bool] = lambda: True

    def receive(self) -> str | bytes | None:
        """The next message (text as str), or None once the connection closed."""
        parts: list[bytes] = []
        first_opcode = None
        while True:
            header = self._read(2)
            if header is None:
                return None
            fin, opcode = header[0] & 0x80, header[0] & 0x0F
            if not header[1] & 0x80:
                raise ProtocolViolationError("client frame is not masked")
            length = header[1] & 0x7F
            if length == 126:
                raw = self._read(2)
                length = struct.unpack("!H", raw)[0] if raw else 0
            elif length == 127:
                raw = self._read(8)
                length = struct.unpack("!Q", raw)[0] if raw else 0
            if length > MAX_MESSAGE:
                raise ProtocolViolationError(f"frame of {length} bytes is too large")
            mask = self._read(4)
            payload = self._read(length) if length else b""
            if mask is None or payload is None:
                return None
            payload = _unmask(payload, mask)
            if opcode == OP_PING:
                self.pings_received += 1
                if self.answer_pings():
                    with contextlib.suppress(OSError):  # the peer may be gone already
                        self._send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                with contextlib.suppress(OSError):
                    self.send_close(1000)
                return None
            if opcode != OP_CONT:
                first_opcode = opcode
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                return data.decode("utf-8") if first_opcode == OP_TEXT else data

    def send_text(self, text: str) -> None:
        self._send_frame(OP_TEXT, text.encode("utf-8"))

    def send_close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        try:
            self._send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120])
        finally:
            self.closed = True

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a network failure)."""
        self.closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self._send_lock:
            if self.closed:
                raise ConnectionError("websocket already closed")
            self._sock.sendall(header + payload)

    def _read(self, n: int) -> bytes | None:
        try:
            data = self._rfile.read(n)
        except (OSError, ValueError):
            return None
        return data if data is not None and len(data) == n else None
