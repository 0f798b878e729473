"""The owner-only status socket behind ``maigic status``.

The running hub serves one JSON snapshot per connection on a Unix stream socket.
It is the hub's only listening socket: created with mode 0600 inside a directory
only the service user can enter, and every connection's peer credentials
(``SO_PEERCRED``) are checked, so another local user gets nothing even if the
file mode were loosened. The snapshot is scrubbed of registered secrets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.logging_setup import scrub

log = logging.getLogger(__name__)

Snapshot = Callable[[], dict[str, Any]]
MAX_REPLY_BYTES = 1 << 20
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


class StatusServer:
    """Serves ``snapshot()`` as JSON to the owner's connections, from one thread."""

    def __init__(self, path: Path, snapshot: Snapshot, *, allowed_uid: int | None = None) -> None:
        self.path = path
        self._snapshot = snapshot
        self._allowed_uid = os.getuid() if allowed_uid is None else allowed_uid
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.refused = 0

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a stale socket from a crashed run
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket file is born 0600: no window for others
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        sock.listen(4)
        sock.settimeout(0.2)  # lets the loop notice stop() promptly
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="status-socket", daemon=True)
        self._thread.start()
        log.info("status socket at %s", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
        _pid, uid, _gid = _PEERCRED.unpack(creds)
        if uid not in (self._allowed_uid, 0):
            self.refused += 1
            log.warning("status socket: refused a connection from uid %d", uid)
            return
        try:
            body = json.dumps(self._snapshot(), default=str)
        except Exception as exc:
            log.exception("status snapshot failed")
            body = json.dumps({"error": f"snapshot failed: {type(exc).__name__}"})
        with contextlib.suppress(OSError):
            conn.sendall(scrub(body).encode())


def query_status(path: Path, timeout: float = 2.0) -> dict[str, Any]:
    """Ask a running hub for its status; raises OSError when none answers."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        chunks, size = [], 0
        while size <= MAX_REPLY_BYTES:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
            size += len(data)
    if not chunks:
        raise ConnectionRefusedError(f"{path}: the hub closed the connection without an answer")
    reply: dict[str, Any] = json.loads(b"".join(chunks))
    return reply
