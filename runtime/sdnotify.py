"""A tiny sd_notify client: one datagram per message to $NOTIFY_SOCKET.

No dependency: the protocol is a single ``KEY=value`` newline-separated datagram to
an AF_UNIX socket (a leading ``@`` means the abstract namespace). Without
NOTIFY_SOCKET (not under systemd, in tests) every call is a cheap no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, address: str | None = None) -> None:
        self.address = os.environ.get("NOTIFY_SOCKET") if address is None else address
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._last_status = ""

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, message: str) -> bool:
        """Send one notification; False when disabled or the send failed (never raises)."""
        if not self.address:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._sock.settimeout(1.0)
                self._sock.sendto(message.encode("utf-8"), target)
            except OSError as exc:
                log.warning("sd_notify %r failed: %s", message.split("=", 1)[0], exc)
                return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={_one_line(status)}" if status else ""))

    def status(self, text: str) -> bool:
        text = _one_line(text)
        if text == self._last_status:
            return True
        self._last_status = text
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def reloading(self) -> bool:
        return self.notify("RELOADING=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog_interval_s(self) -> float | None:
        """Half of systemd's WatchdogSec for this process, or None when no watchdog is set."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return int(usec) / 2_000_000
        except ValueError:
            return None

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _one_line(text: str) -> str:
    return " ".join(text.split())
