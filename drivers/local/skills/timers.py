"""Timers: set, cancel, list. They ring through the hub's context callback.

:class:`TimerScheduler` runs one thread that sleeps on a condition until the
next timer is due (no polling); ``close()`` stops and joins it.
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.local.skills.base import Skill, SkillContext, SkillResult, TimerRing, patterns
from drivers.local.skills.numbers import parse_duration, parse_number, say_duration

MAX_TIMER_S = 24 * 3600
_NOT_LABELS = {"a", "an", "the", "my", "new", "one", "this", "that"}


@dataclass(frozen=True, slots=True, order=True)
class Timer:
    due: float  # on the scheduler's clock
    timer_id: int
    seconds: int
    label: str


class TimerScheduler:
    """Fires ``on_ring`` when each timer is due, from its own thread."""

    def __init__(
        self, on_ring: Callable[[TimerRing], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._on_ring = on_ring
        self._clock = clock
        self._heap: list[Timer] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def schedule(self, seconds: float, label: str = "") -> Timer:
        if not 0 < seconds <= MAX_TIMER_S:
            raise ValueError(f"timer length must be between 1 second and 24 hours, got {seconds}")
        with self._cond:
            if self._closed:
                raise RuntimeError("timer scheduler is closed")
            timer = Timer(self._clock() + seconds, next(self._ids), round(seconds), label)
            heapq.heappush(self._heap, timer)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="skill-timers", daemon=True)
                self._thread.start()
            self._cond.notify()
        return timer

    def cancel(self, label: str | None = None) -> list[Timer]:
        """Cancel the timers with ``label`` (all when None); the ones cancelled."""
        with self._cond:
            gone = [t for t in self._heap if label is None or t.label == label]
            self._heap = [t for t in self._heap if t not in gone]
            heapq.heapify(self._heap)
            self._cond.notify()
        return sorted(gone)

    def pending(self) -> list[tuple[Timer, float]]:
        """Each pending timer with its seconds left, soonest first."""
        with self._cond:
            now = self._clock()
            return [(t, max(0.0, t.due - now)) for t in sorted(self._heap)]

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0].due > self._clock()):
                    wait = self._heap[0].due - self._clock() if self._heap else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                timer = heapq.heappop(self._heap)
            self._on_ring(_ring_for(timer))


def _ring_for(timer: Timer) -> TimerRing:
    what = f"{timer.label} timer" if timer.label else f"{say_duration(timer.seconds)} timer"
    return TimerRing(timer.timer_id, timer.label, f"Your {what} is done.")


class SetTimerSkill(Skill):
    name: ClassVar[str] = "set_timer"
    description: ClassVar[str] = "Start a countdown timer that rings when it is done."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "duration_seconds": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_TIMER_S,
                "description": "how long until the timer rings",
            },
            "label": {"type": "string", "description": "optional name, e.g. 'pasta'"},
        },
        "required": ["duration_seconds"],
        "additionalProperties": False,
    }
    grammar: ClassVar[str] = (
        "(set | start) a timer for <duration> | (set | start) a <duration> timer"
    )
    patterns = patterns(r"\b(?:set|start|create)\b.*\btimer\b", r"\btimer for\b",
                        r"\bremind me in\b")

    def __init__(self, scheduler: TimerScheduler) -> None:
        self.scheduler = scheduler

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        seconds = parse_duration(text)
        if seconds is None:
            return None
        named = re.search(r"\b(\w+) timer\b", text)
        label = named.group(1) if named else ""
        if label in _NOT_LABELS or parse_duration(f"1 {label}") or parse_number([label]):
            return {"duration_seconds": seconds}
        return {"duration_seconds": seconds, "label": label}

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        seconds = int(arguments["duration_seconds"])
        timer = self.scheduler.schedule(seconds, str(arguments.get("label", "")))
        return SkillResult(
            self.name,
            f"Timer set for {say_duration(seconds)}.",
            data={"timer_id": timer.timer_id, "duration_seconds": seconds},
        )


class CancelTimerSkill(Skill):
    name: ClassVar[str] = "cancel_timer"
    description: ClassVar[str] = "Cancel timers: the one with the given label, or all of them."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"label": {"type": "string", "description": "only the timer with this name"}},
        "additionalProperties": False,
    }
    grammar: ClassVar[str] = (
        "(cancel | stop) [the | all | my] (timer | timers) | (cancel | stop) all [the] timers"
    )
    patterns = patterns(
        r"\b(?:cancel|stop|delete|clear) (?:the |all |my |all the )?(?:(?P<label>\w+) )?timers?\b"
    )

    def __init__(self, scheduler: TimerScheduler) -> None:
        self.scheduler = scheduler

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        label = match.groupdict().get("label")
        return {"label": label} if label and label not in ("all", "the", "my") else {}

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        label = arguments.get("label")
        gone = self.scheduler.cancel(str(label) if label else None)
        if not gone:
            return SkillResult(self.name, "There is no timer to cancel.", data={"cancelled": 0})
        noun = "timer" if len(gone) == 1 else "timers"
        return SkillResult(
            self.name, f"Cancelled {len(gone)} {noun}.", data={"cancelled": len(gone)}
        )


class ListTimersSkill(Skill):
    name: ClassVar[str] = "list_timers"
    description: ClassVar[str] = "Say which timers are running and how long each has left."
    grammar: ClassVar[str] = (
        "list [the | my] timers | what timers are (set | running) | how much time is left"
    )
    patterns = patterns(
        r"\blist (?:the |my )?timers\b",
        r"\bwhat timers\b",
        r"\bhow much time is left\b",
        r"\bany timers\b",
    )

    def __init__(self, scheduler: TimerScheduler) -> None:
        self.scheduler = scheduler

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        pending = self.scheduler.pending()
        if not pending:
            return SkillResult(self.name, "There are no timers running.", data={"timers": []})
        spoken = [
            f"{t.label + ' timer, ' if t.label else ''}{say_duration(round(left))} left"
            for t, left in pending
        ]
        return SkillResult(
            self.name,
            "; ".join(spoken) + ".",
            data={
                "timers": [
                    {"id": t.timer_id, "label": t.label, "seconds_left": round(left)}
                    for t, left in pending
                ]
            },
        )
