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
from drivers.local.skills.numbers import find_duration, parse_duration, parse_number, say_duration

MAX_TIMER_S = 24 * 3600
_NOT_LABELS = {"a", "an", "the", "my", "new", "one", "this", "that", "all", "every", "any",
               "other", "current", "running"}
DUR = "DUR"  # a duration in a request, replaced by this token for the patterns
_SET = r"(?:(?:set|start|create|make|put on|add|begin|run|get|give me|i need|i want) )?"
_A = r"(?:a |an |the |my |one )?(?:new )?"
_LABEL_AFTER = r"(?: (?:for|called|named|labell?ed) (?:the |my )?(?P<label2>[a-z]+))?"
_TIMER = r"(?:timer|countdown|alarm)"


def with_duration(request: str) -> tuple[str, int | None]:
    """``request`` with its first duration replaced by :data:`DUR`, and the seconds."""
    words = request.split()
    found = find_duration(words)
    if found is None:
        return request, None
    start, end, seconds = found
    return " ".join([*words[:start], DUR, *words[end:]]), seconds


def _label(match: re.Match[str]) -> str:
    found = match.groupdict()
    label = found.get("label") or found.get("label2") or ""
    if label in _NOT_LABELS or parse_duration(f"1 {label}") or parse_number([label]):
        return ""
    return label


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
    patterns = patterns(
        _SET + _A + _TIMER + r" (?:for|of|at|in) DUR" + _LABEL_AFTER,
        _SET + _A + r"DUR (?:(?P<label>[a-z]+) )?" + _TIMER + _LABEL_AFTER,
        _SET + _A + r"(?P<label>[a-z]+) " + _TIMER + r" (?:for|of) DUR",
        r"(?:remind me|tell me|let me know|wake me up|wake me|ping me|alert me) in DUR",
        r"(?:count down|countdown) (?:from |for )?DUR",
        _TIMER + r" DUR",
    )

    def __init__(self, scheduler: TimerScheduler) -> None:
        self.scheduler = scheduler

    def match(self, text: str) -> dict[str, Any] | None:
        request, seconds = with_duration(text)
        if seconds is None:
            return None
        for pattern in self.patterns:
            found = pattern.fullmatch(request)
            if found:
                label = _label(found)
                return {"duration_seconds": seconds, **({"label": label} if label else {})}
        return None

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
        r"(?:cancel|stop|delete|clear|remove|kill|end|turn off|switch off|dismiss|silence"
        r"|forget(?: about)?|never mind) (?:the |my |all |all the |all my |all of the "
        r"|all of my |every |any )?(?:(?P<label>[a-z]+) |DUR )?(?:timers?|countdowns?|alarms?)"
        + _LABEL_AFTER,
        r"(?:timers?|countdowns?) (?:off|cancel|stop)",
    )

    def __init__(self, scheduler: TimerScheduler) -> None:
        self.scheduler = scheduler

    def match(self, text: str) -> dict[str, Any] | None:
        request, _seconds = with_duration(text)
        for pattern in self.patterns:
            found = pattern.fullmatch(request)
            if found:
                label = _label(found)
                return {"label": label} if label else {}
        return None

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
        r"(?:list|show|check|read) (?:me )?(?:the |my |all |all the |all my )?timers?",
        r"what timers? (?:are|is|do i have)(?: there)?(?: (?:set|running|going|on))?",
        r"(?:are there|do i have|is there|have i got|have i) any timers?"
        r"(?: (?:set|running|going|on))?",
        r"any timers?(?: (?:set|running|going|on))?",
        r"how (?:much time|long) (?:is |do i have )?(?:left|remaining)"
        r"(?: on (?:the |my )?(?:[a-z]+ )?timers?)?",
        r"what is left on (?:the |my )?(?:[a-z]+ )?timers?",
        r"timers? status",
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
