"""Volume up, down, set, and mute / unmute."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from drivers.local.skills.base import Skill, SkillContext, SkillResult, patterns
from drivers.local.skills.numbers import parse_number

VOLUME_STEP = 10


def _set(context: SkillContext, level: int, skill: str) -> SkillResult:
    level = max(0, min(100, level))
    context.set_volume(level)
    return SkillResult(skill, f"Volume {level} percent.", data={"volume": level})


class _VolumeStepSkill(Skill):
    step: ClassVar[int]

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        return _set(context, context.get_volume() + self.step, self.name)


class VolumeUpSkill(_VolumeStepSkill):
    name: ClassVar[str] = "volume_up"
    description: ClassVar[str] = f"Make the earpiece louder by {VOLUME_STEP} percent."
    step: ClassVar[int] = VOLUME_STEP
    grammar: ClassVar[str] = "volume up | louder | turn it up | turn up the volume"
    patterns = patterns(r"\bvolume up\b", r"\blouder\b", r"\bturn (?:it |the volume )?up\b",
                        r"\bturn up the volume\b")


class VolumeDownSkill(_VolumeStepSkill):
    name: ClassVar[str] = "volume_down"
    description: ClassVar[str] = f"Make the earpiece quieter by {VOLUME_STEP} percent."
    step: ClassVar[int] = -VOLUME_STEP
    grammar: ClassVar[str] = "volume down | quieter | softer | turn it down | turn down the volume"
    patterns = patterns(r"\bvolume down\b", r"\b(?:quieter|softer)\b",
                        r"\bturn (?:it |the volume )?down\b", r"\bturn down the volume\b")


class SetVolumeSkill(Skill):
    name: ClassVar[str] = "set_volume"
    description: ClassVar[str] = "Set the earpiece volume to a level from 0 to 100 percent."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "level": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "volume in percent",
            },
        },
        "required": ["level"],
        "additionalProperties": False,
    }
    grammar: ClassVar[str] = "set [the] volume to <number> [percent] | volume <number> [percent]"
    patterns = patterns(r"\b(?:set (?:the )?)?volume (?:to )?(?P<level>[a-z0-9 ]+?)(?: percent)?$")

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        words = match.group("level").split()
        number = parse_number(words)
        if number is None or number[1] != len(words):
            return None
        return {"level": number[0]}

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        return _set(context, int(arguments["level"]), self.name)


class MuteSkill(Skill):
    name: ClassVar[str] = "set_muted"
    description: ClassVar[str] = "Mute or unmute the hub's microphone."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"muted": {"type": "boolean", "description": "true to mute"}},
        "required": ["muted"],
        "additionalProperties": False,
    }
    grammar: ClassVar[str] = "mute | unmute | mute yourself | mute the microphone"
    patterns = patterns(r"^(?P<verb>mute|unmute)\b", r"\b(?P<verb2>unmute)\b")

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        verb = match.groupdict().get("verb") or match.groupdict().get("verb2")
        return {"muted": verb == "mute"}

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        muted = bool(arguments["muted"])
        context.set_muted(muted)
        return SkillResult(
            self.name,
            "Muted." if muted else "Unmuted.",
            earcon="muted" if muted else "unmuted",
            data={"muted": muted},
        )
