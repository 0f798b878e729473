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
    patterns = patterns(
        r"(?:turn|crank|bump|put|pump) (?:it |that |the volume |the sound |you )?up"
        r"(?: a (?:bit|little))?(?: more)?",
        r"turn up the (?:volume|sound)",
        r"(?:the )?volume up",
        r"(?:make it |make that |speak |talk |a (?:bit|little) )?louder",
        r"(?:increase|raise) the (?:volume|sound)",
        r"speak up",
    )


class VolumeDownSkill(_VolumeStepSkill):
    name: ClassVar[str] = "volume_down"
    description: ClassVar[str] = f"Make the earpiece quieter by {VOLUME_STEP} percent."
    step: ClassVar[int] = -VOLUME_STEP
    grammar: ClassVar[str] = "volume down | quieter | softer | turn it down | turn down the volume"
    patterns = patterns(
        r"(?:turn|bring|put) (?:it |that |the volume |the sound |you )?down"
        r"(?: a (?:bit|little))?(?: more)?",
        r"turn down the (?:volume|sound)",
        r"(?:the )?volume down",
        r"(?:make it |make that |speak |talk |be |a (?:bit|little) )?(?:quieter|softer)",
        r"(?:decrease|lower|reduce) the (?:volume|sound)",
        r"(?:it is|that is|you are) too loud",
    )


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
    patterns = patterns(
        r"(?:(?:set|change|put|turn|make) (?:the )?)?volume (?:to |at )?"
        r"(?P<level>[a-z0-9 .]+?)(?: percent)?",
        r"(?:set|turn|put) (?:it|the sound) to (?P<level2>[a-z0-9 .]+?)(?: percent)?",
    )

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        words = (match.groupdict().get("level") or match.group("level2")).split()
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
    patterns = patterns(
        r"(?P<verb>mute|unmute)(?: yourself| the (?:microphone|mic)| your (?:microphone|mic)"
        r"| the hub)?",
        r"(?:turn|switch) (?P<state>off|on) (?:the|your) (?:microphone|mic)",
        r"(?:turn|switch) (?:the|your) (?:microphone|mic) (?P<state2>off|on)",
        r"(?P<stop>stop listening)",
    )

    def arguments(self, match: re.Match[str], text: str) -> dict[str, Any] | None:
        found = match.groupdict()
        state = found.get("state") or found.get("state2")
        if state:
            return {"muted": state == "off"}
        return {"muted": found.get("verb") != "unmute"}

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        muted = bool(arguments["muted"])
        context.set_muted(muted)
        return SkillResult(
            self.name,
            "Muted." if muted else "Unmuted.",
            earcon="muted" if muted else "unmuted",
            data={"muted": muted},
        )
