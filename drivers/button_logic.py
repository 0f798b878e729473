"""Button gestures from raw edges: our own debounce, tap, double tap and holds.

:class:`ButtonGestures` is fed raw ``pressed``/``released`` edges from any thread
(gpiozero's callbacks, a keyboard) and turns them, on its own thread, into
:class:`ButtonEvent` s. Timings (all configurable, :class:`ButtonTimings`):

- debounce: a new level counts only once it has been stable for ``debounce_ms``
  (gpiozero's mock pins ignore ``bounce_time``, and its debounce is per driver
  anyway); the event is stamped with the first edge of the burst.
- ``PRESSED``/``RELEASED`` for every debounced change.
- ``HOLD_START`` once pressed for ``hold_ms``, ``HOLD_END`` at its release;
  ``LONG_HOLD`` once (additionally) pressed for ``long_hold_ms``.
- a press released before ``hold_ms`` is a tap: ``TAP`` after ``double_tap_ms``
  without a second one, or ``DOUBLE_TAP`` when the second tap comes in time
  (``double_tap_ms=0`` reports ``TAP`` at once and never ``DOUBLE_TAP``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0
MS = 1_000_000


class ButtonEventKind(Enum):
    PRESSED = "pressed"
    RELEASED = "released"
    TAP = "tap"
    DOUBLE_TAP = "double_tap"
    HOLD_START = "hold_start"
    HOLD_END = "hold_end"
    LONG_HOLD = "long_hold"


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    kind: ButtonEventKind
    at_ns: int = field(default_factory=time.monotonic_ns)  # time.monotonic_ns() of the cause


@dataclass(frozen=True, slots=True)
class ButtonTimings:
    debounce_ms: int = 30
    double_tap_ms: int = 300
    hold_ms: int = 500
    long_hold_ms: int = 3000

    def __post_init__(self) -> None:
        if self.debounce_ms < 0 or self.double_tap_ms < 0:
            raise ValueError(f"button timings must not be negative: {self}")
        if not 0 < self.hold_ms < self.long_hold_ms:
            raise ValueError(
                f"need 0 < hold_ms < long_hold_ms, got hold_ms={self.hold_ms}, "
                f"long_hold_ms={self.long_hold_ms}"
            )


OnButtonEvent = Callable[[ButtonEvent], None]


class ButtonGestures:
    """The gesture state machine and the thread that runs its timers.

    Call :meth:`feed` with raw levels; events go to ``on_event`` on the gesture
    thread (keep the handler short: an actor ``tell`` is ideal). :meth:`close` stops
    and joins the thread.
    """

    def __init__(self, on_event: OnButtonEvent, timings: ButtonTimings | None = None,
                 *, initially_pressed: bool = False, name: str = "button") -> None:
        self.timings = timings or ButtonTimings()
        self._on_event = on_event
        self._cond = threading.Condition()
        self._raw = initially_pressed
        self._burst_start_ns = 0  # first edge away from the stable level
        self._settle_at_ns: int | None = None
        self._stable = initially_pressed
        self._pressed_at_ns: int | None = None
        self._holding = False
        self._long_sent = False
        self._tap_deadline_ns: int | None = None
        self._tap_at_ns = 0
        self._stop = False
        self._exact: list[ButtonEvent] = []  # from edge(): emitted by the thread as they come
        self._thread = threading.Thread(target=self._run, name=f"{name}-gestures", daemon=True)
        self._thread.start()

    def feed(self, pressed: bool, at_ns: int | None = None) -> None:
        """A raw edge (bounces included); safe from any thread, never blocks for long."""
        now = time.monotonic_ns() if at_ns is None else at_ns
        with self._cond:
            if pressed != self._raw and self._raw == self._stable:
                self._burst_start_ns = now
            self._raw = pressed
            self._settle_at_ns = now + self.timings.debounce_ms * MS
            self._cond.notify()

    def edge(self, pressed: bool, at_ns: int | None = None) -> None:
        """An exact edge from a source that never bounces (a key event): no debounce, so
        a press and its release arriving together (AVRCP often sends both) both count."""
        now = time.monotonic_ns() if at_ns is None else at_ns
        with self._cond:
            if pressed == self._stable:
                return
            self._raw = self._stable = pressed
            self._settle_at_ns = None
            if pressed:
                self._on_press(now, self._exact)
            else:
                self._on_release(now, self._exact)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                events, self._exact = self._exact, []
                events += self._due_events(time.monotonic_ns())
                if not events:
                    deadline = self._next_deadline()
                    timeout = None if deadline is None else max(
                        0.0, (deadline - time.monotonic_ns()) / 1e9)
                    self._cond.wait(timeout)
                    continue
            for event in events:  # outside the lock: handlers may call feed()
                try:
                    self._on_event(event)
                except Exception:
                    log.exception("button event handler failed on %s", event.kind.name)

    def _next_deadline(self) -> int | None:
        candidates = [self._settle_at_ns, self._tap_deadline_ns]
        if self._pressed_at_ns is not None:
            if not self._holding:
                candidates.append(self._pressed_at_ns + self.timings.hold_ms * MS)
            if not self._long_sent:
                candidates.append(self._pressed_at_ns + self.timings.long_hold_ms * MS)
        due = [c for c in candidates if c is not None]
        return min(due) if due else None

    def _due_events(self, now: int) -> list[ButtonEvent]:
        """Advance the state machine to ``now``; caller holds the lock."""
        events: list[ButtonEvent] = []
        if self._settle_at_ns is not None and now >= self._settle_at_ns:
            self._settle_at_ns = None
            if self._raw != self._stable:
                self._stable = self._raw
                if self._stable:
                    self._on_press(self._burst_start_ns, events)
                else:
                    self._on_release(self._burst_start_ns, events)
        pressed_at = self._pressed_at_ns
        if pressed_at is not None:
            if not self._holding and now >= pressed_at + self.timings.hold_ms * MS:
                self._holding = True
                self._flush_pending_tap(events)
                events.append(ButtonEvent(ButtonEventKind.HOLD_START,
                                          pressed_at + self.timings.hold_ms * MS))
            if not self._long_sent and now >= pressed_at + self.timings.long_hold_ms * MS:
                self._long_sent = True
                events.append(ButtonEvent(ButtonEventKind.LONG_HOLD,
                                          pressed_at + self.timings.long_hold_ms * MS))
        if self._tap_deadline_ns is not None and now >= self._tap_deadline_ns:
            self._flush_pending_tap(events)
        return events

    def _on_press(self, at: int, events: list[ButtonEvent]) -> None:
        events.append(ButtonEvent(ButtonEventKind.PRESSED, at))
        self._pressed_at_ns = at
        self._holding = False
        self._long_sent = False

    def _on_release(self, at: int, events: list[ButtonEvent]) -> None:
        events.append(ButtonEvent(ButtonEventKind.RELEASED, at))
        was_holding = self._holding
        self._pressed_at_ns = None
        self._holding = False
        if was_holding:
            events.append(ButtonEvent(ButtonEventKind.HOLD_END, at))
        elif self._tap_deadline_ns is not None:
            self._tap_deadline_ns = None
            events.append(ButtonEvent(ButtonEventKind.DOUBLE_TAP, at))
        elif self.timings.double_tap_ms == 0:
            events.append(ButtonEvent(ButtonEventKind.TAP, at))
        else:
            self._tap_at_ns = at
            self._tap_deadline_ns = at + self.timings.double_tap_ms * MS

    def _flush_pending_tap(self, events: list[ButtonEvent]) -> None:
        if self._tap_deadline_ns is not None:
            self._tap_deadline_ns = None
            events.append(ButtonEvent(ButtonEventKind.TAP, self._tap_at_ns))
