"""All offline skills in one place: speech in, answer out; and the same skills as tools.

``handle_utterance(text)`` serves the offline mode (first skill whose patterns
match a whole request in the transcript runs; see ``phrasing``);
``call_tool(name, arguments_json)`` serves an online model's function call and never
raises: problems come back as an ``error: ...`` string the model can read;
``tool_specs()`` describes the tools; ``jsgf()`` is the command grammar for the offline recogniser.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from drivers.local.grammar import build_jsgf
from drivers.local.skills.base import Skill, SkillContext, SkillResult, TimerRing
from drivers.local.skills.clock import DateSkill, TimeSkill
from drivers.local.skills.numbers import DURATION_JSGF, NUMBER_JSGF
from drivers.local.skills.phrasing import requests
from drivers.local.skills.repeat import SayAgainSkill
from drivers.local.skills.schema import schema_errors
from drivers.local.skills.status import StatusSkill
from drivers.local.skills.timers import (
    CancelTimerSkill,
    ListTimersSkill,
    SetTimerSkill,
    TimerScheduler,
)
from drivers.local.skills.volume import MuteSkill, SetVolumeSkill, VolumeDownSkill, VolumeUpSkill

log = logging.getLogger(__name__)


def default_skills(scheduler: TimerScheduler) -> list[Skill]:
    """Every built-in skill; order matters where phrasings overlap (specific first)."""
    return [
        TimeSkill(),
        DateSkill(),
        ListTimersSkill(scheduler),
        CancelTimerSkill(scheduler),
        SetTimerSkill(scheduler),
        SetVolumeSkill(),
        VolumeUpSkill(),
        VolumeDownSkill(),
        MuteSkill(),
        StatusSkill(),
        SayAgainSkill(),
    ]


class SkillRegistry:
    """The hub's offline skills bound to its :class:`SkillContext`. Close it when done."""

    def __init__(
        self, context: SkillContext | None = None, skills: Sequence[Skill] | None = None
    ) -> None:
        self.context = context or SkillContext()
        self.scheduler = TimerScheduler(self._ring)
        self.skills = list(skills) if skills is not None else default_skills(self.scheduler)
        names = [s.name for s in self.skills]
        if len(set(names)) != len(names):
            raise ValueError(f"skill names must be unique, got {names}")
        self._by_name = {s.name: s for s in self.skills}

    def _ring(self, ring: TimerRing) -> None:
        # looked up at ring time: the hub may swap the context's callback
        self.context.on_timer_ring(ring)

    def __enter__(self) -> SkillRegistry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for skill in self.skills:
            skill.close()
        self.scheduler.close()

    def match(self, text: str) -> tuple[Skill, dict[str, Any]] | None:
        """The skill a transcript asks for and its arguments, without running it."""
        for request in requests(text):
            for skill in self.skills:
                arguments = skill.match(request)
                if arguments is not None:
                    return skill, arguments
        return None

    def handle_utterance(self, text: str) -> SkillResult | None:
        """Run the skill this transcript asks for; None when no skill understands it."""
        found = self.match(text)
        if found is None:
            return None
        skill, arguments = found
        return skill.run(arguments, self.context)

    def call_tool(self, name: str, arguments_json: str) -> str:
        """Run a skill for a model's function call; the text to send back (never raises)."""
        skill = self._by_name.get(name)
        if skill is None:
            return f"error: unknown tool {name!r}; available: {', '.join(self._by_name)}"
        try:
            arguments = json.loads(arguments_json or "{}")
        except (json.JSONDecodeError, TypeError) as exc:
            return f"error: arguments for {name} are not valid JSON ({exc})"
        errors = schema_errors(skill.parameters, arguments)
        if errors:
            return f"error: bad arguments for {name}: " + "; ".join(errors)
        try:
            return skill.run(arguments, self.context).speech
        except Exception as exc:  # noqa: BLE001 - a tool failure is reported to the model
            log.warning("tool %s failed: %s", name, exc)
            return f"error: {name} failed: {exc}"

    def tool_specs(self, *, nested: bool = False) -> list[dict[str, Any]]:
        """Function tool definitions: flat (Realtime/Responses) or ``nested`` (Chat Completions)."""
        specs = []
        for skill in self.skills:
            function = {
                "name": skill.name,
                "description": skill.description,
                "parameters": skill.parameters,
            }
            specs.append(
                {"type": "function", "function": function}
                if nested
                else {"type": "function", **function}
            )
        return specs

    def jsgf(self) -> str:
        """A JSGF grammar of everything the skills understand (for ``LocalSpeechToTextClient``)."""
        return build_jsgf(
            {skill.name: skill.grammar for skill in self.skills},
            {**DURATION_JSGF, **NUMBER_JSGF},
        )
