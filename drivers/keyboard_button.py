"""A development stand-in for the GPIO button: lines typed on a terminal (or a pipe).

Commands, one per line: empty line or ``t`` = tap, ``d`` = double tap, ``h`` = press
and keep holding (``h`` again releases; the hold and long-hold events come from the
same timers as the real button). The input is read on a thread with a polling
timeout, so :meth:`KeyboardButton.close` always returns.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
from typing import IO

from drivers.button_logic import ButtonGestures, ButtonTimings, OnButtonEvent

log = logging.getLogger(__name__)

TAP_S = 0.06  # how long a typed "tap" keeps the virtual button down
POLL_S = 0.2
JOIN_TIMEOUT_S = 2.0
HELP = "button keys: Enter = tap, d = double tap, h = hold / release"


class KeyboardButton:
    """Button gestures from typed lines; events go to ``on_event`` like :class:`ButtonDriver`."""

    def __init__(self, on_event: OnButtonEvent, *, stream: IO[str] | IO[bytes] | int | None = None,
                 timings: ButtonTimings | None = None) -> None:
        source = sys.stdin if stream is None else stream
        try:
            self._fd = source if isinstance(source, int) else source.fileno()
        except (OSError, ValueError) as exc:  # io.UnsupportedOperation is both
            raise ValueError(
                f"the keyboard button needs a terminal or pipe to read from: {exc}"
            ) from exc
        base = timings or ButtonTimings()
        self._gestures = ButtonGestures(
            on_event,
            ButtonTimings(0, base.double_tap_ms, base.hold_ms, base.long_hold_ms),
            name="keyboard",
        )
        self._held = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keyboard-button", daemon=True)
        self._thread.start()
        log.info(HELP)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(JOIN_TIMEOUT_S)
        self._gestures.close()

    def __enter__(self) -> KeyboardButton:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _w, _x = select.select([self._fd], [], [], POLL_S)
            if not ready:
                continue
            data = os.read(self._fd, 1024)
            if not data:
                return  # end of input: nothing more will come
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self.command(line.decode(errors="replace").strip().lower())

    def command(self, key: str) -> None:
        """Act on one typed command (see the module docstring)."""
        if key in ("", "t"):
            self._tap()
        elif key == "d":
            self._tap()
            self._stop.wait(TAP_S)
            self._tap()
        elif key == "h":
            self._held = not self._held
            self._gestures.feed(self._held)
        else:
            log.warning("unknown button key %r; %s", key, HELP)

    def _tap(self) -> None:
        self._gestures.feed(True)
        self._stop.wait(TAP_S)
        self._gestures.feed(False)
