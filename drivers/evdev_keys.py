"""The earpiece's play/pause key (AVRCP) from BlueZ's input device, as button edges.

An A2DP-connected earpiece sends AVRCP passthrough commands; BlueZ turns them into
key events on a uinput device it names "<earpiece name> (AVRCP)", which exists only
while the earpiece is connected. This reader finds that device (or uses the one
configured), reads the kernel's ``struct input_event`` records from it, and turns
the play/pause keys' press and release into edges for
:class:`drivers.button_logic.ButtonGestures` (the GPIO button's vocabulary: tap,
double tap, hold). When the device vanishes it looks again with backoff, saying so
once per change.

The records are parsed here (``struct.Struct("@llHHi")``: a ``timeval`` of two
native longs, then type, code and value) rather than through python-evdev, whose
C extension needs kernel headers to build and cannot read from anything but a real
evdev node; this way the same code reads a pipe in the tests.
"""

from __future__ import annotations

import logging
import os
import select
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from drivers.backoff import Backoff

log = logging.getLogger(__name__)

INPUT_EVENT = struct.Struct("@llHHi")  # struct input_event (linux/input.h)
EV_KEY = 0x01
# the keys an earpiece's button sends over AVRCP (linux/input-event-codes.h)
MEDIA_KEYS = {
    164: "KEY_PLAYPAUSE",
    200: "KEY_PLAYCD",
    201: "KEY_PAUSECD",
    207: "KEY_PLAY",
    119: "KEY_PAUSE",
}
RELEASED, PRESSED, REPEAT = 0, 1, 2
INPUT_DEVICES = Path("/proc/bus/input/devices")
POLL_S = 0.2  # how often a blocked read looks at the stop flag
JOIN_TIMEOUT_S = 2.0

OnEdge = Callable[[bool, int], None]  # (pressed, time.monotonic_ns())


def find_avrcp_device(listing: Path = INPUT_DEVICES) -> Path | None:
    """BlueZ's ``... (AVRCP)`` input device's /dev/input/eventN, if one is there."""
    try:
        text = listing.read_text()
    except OSError:
        return None
    for block in text.split("\n\n"):
        lines = block.splitlines()
        name = next((ln.split("=", 1)[1].strip('"') for ln in lines
                     if ln.startswith("N: Name=")), "")
        handlers = next((ln.split("=", 1)[1].split() for ln in lines
                         if ln.startswith("H: Handlers=")), [])
        event = next((h for h in handlers if h.startswith("event")), None)
        if name.endswith("(AVRCP)") and event is not None:
            return Path("/dev/input") / event
    return None


def key_edges(data: bytes) -> list[tuple[int, bool]]:
    """(key code, pressed) for each media-key press or release in whole records."""
    edges = []
    usable = len(data) - len(data) % INPUT_EVENT.size
    for _sec, _usec, kind, code, value in INPUT_EVENT.iter_unpack(data[:usable]):
        if kind == EV_KEY and code in MEDIA_KEYS and value in (RELEASED, PRESSED):
            edges.append((code, value == PRESSED))
    return edges


class MediaKeyReader:
    """Reads the earpiece's media keys on a thread; :meth:`close` stops it."""

    def __init__(self, on_edge: OnEdge, *, device: Path | None = None,
                 find: Callable[[], Path | None] = find_avrcp_device,
                 backoff: Backoff | None = None) -> None:
        self.on_edge = on_edge
        self.find = (lambda: device) if device is not None else find
        self.backoff = backoff or Backoff(1.0, 10.0)
        self.events = 0
        self._stop = threading.Event()
        self._present: bool | None = None
        self._thread = threading.Thread(target=self._run, name="media-keys", daemon=True)

    def start(self) -> MediaKeyReader:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("the media-key reader did not stop within %.0f s", JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while not self._stop.is_set():
            path = self.find()
            fd = self._open(path)
            if fd is None:
                if self._stop.wait(self.backoff.next_delay()):
                    return
                continue
            self.backoff.reset()
            try:
                self._read(fd)
            finally:
                os.close(fd)

    def _open(self, path: Path | None) -> int | None:
        if path is None:
            self._gone("no AVRCP input device (the earpiece is not connected over A2DP)")
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            self._gone(f"{path}: {exc.strerror}")
            return None
        if self._present is not True:
            log.info("earpiece media keys: reading %s", path)
        self._present = True
        return fd

    def _gone(self, reason: str) -> None:
        if self._present is not False:
            log.info("earpiece media keys unavailable: %s; looking again quietly", reason)
        self._present = False

    def _read(self, fd: int) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], POLL_S)
            if not ready:
                continue
            try:
                data = os.read(fd, INPUT_EVENT.size * 64)
            except BlockingIOError:
                continue
            except OSError as exc:  # ENODEV: the earpiece went
                self._gone(exc.strerror or str(exc))
                return
            if not data:
                self._gone("the input device closed")
                return
            pending += data
            usable = len(pending) - len(pending) % INPUT_EVENT.size
            chunk, pending = pending[:usable], pending[usable:]
            now = time.monotonic_ns()
            for code, pressed in key_edges(chunk):
                self.events += 1
                log.debug("earpiece %s %s", MEDIA_KEYS[code], "down" if pressed else "up")
                try:
                    self.on_edge(pressed, now)
                except Exception:
                    log.exception("the media-key handler failed")
