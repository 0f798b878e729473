"""What a skill is, what it returns, and what the hub provides to skills."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class SkillResult:
    """A skill's answer: words to speak and, optionally, an earcon to play first.

    ``earcon`` names a ``drivers.earcons.Earcon`` member in lower case ("timer",
    "muted", ...), so skills do not depend on the audio code.
    """

    skill: str
    speech: str
    earcon: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimerRing:
    """A timer went off: play ``earcon``, then say ``message``."""

    timer_id: int
    label: str
    message: str
    earcon: str = "timer"


@dataclass(frozen=True, slots=True)
class HubStatus:
    """What the status skill reports; None means unknown."""

    mode: str = "local"
    provider_reachable: bool | None = None
    earpiece_connected: bool | None = None
    battery_percent: int | None = None
    muted: bool = False


def _unset_volume(_: int) -> None:
    raise RuntimeError("this hub has no volume control")


def _no_op(*_: object) -> None:
    return None


@dataclass(slots=True)
class SkillContext:
    """Callbacks into the hub. Defaults make a context usable from a plain script."""

    on_timer_ring: Callable[[TimerRing], None] = _no_op
    get_volume: Callable[[], int] = lambda: 50
    set_volume: Callable[[int], None] = _unset_volume
    set_muted: Callable[[bool], None] = _no_op
    status: Callable[[], HubStatus] = HubStatus
    last_answer: Callable[[], str | None] = lambda: None
    now: Callable[[], datetime] = datetime.now


class Skill(ABC):
    """One offline ability. Add one by subclassing and listing it in the registry.

    - ``name``, ``description``, ``parameters`` (JSON schema): the function-tool
      face offered to online models;
    - ``grammar``: a JSGF expansion of what can be said (may use the shared
      ``<number>`` / ``<duration>`` rules), for the offline recogniser;
    - ``patterns``: regular expressions each matching a *whole* request (normalised,
      fillers removed, "what's" spelt "what is": see ``phrasing.requests``);
      ``arguments(match, text)`` turns a hit into the tool arguments;
    - ``run(arguments, context)``: do it, return what to say.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    grammar: ClassVar[str]
    patterns: ClassVar[Sequence[re.Pattern[str]]]

    def match(self, text: str) -> dict[str, Any] | None:
        """Arguments if this request (see ``phrasing.requests``) asks for this skill."""
        for pattern in self.patterns:
            found = pattern.fullmatch(text)
            if found:
                return self.arguments(found, text)
        return None

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        return {}

    @abstractmethod
    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult: ...

    def close(self) -> None:
        """Release anything the skill runs in the background."""
        return None


def patterns(*regexes: str) -> Sequence[re.Pattern[str]]:
    return LazyPatterns(regexes)


class LazyPatterns(Sequence[re.Pattern[str]]):
    """Regular expressions compiled when first matched, not when the skills are imported:
    the skills' 60 patterns cost 30 ms of a start-up (READY) that has none to spare."""

    def __init__(self, regexes: tuple[str, ...]) -> None:
        self._regexes = regexes
        self._compiled: tuple[re.Pattern[str], ...] | None = None

    def _all(self) -> tuple[re.Pattern[str], ...]:
        if self._compiled is None:  # two threads may both compile: the same result
            self._compiled = tuple(re.compile(r) for r in self._regexes)
        return self._compiled

    def __getitem__(self, index: int) -> re.Pattern[str]:  # type: ignore[override]
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._regexes)

    def __iter__(self) -> Iterator[re.Pattern[str]]:
        return iter(self._all())
