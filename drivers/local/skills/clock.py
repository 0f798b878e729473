"""Time and date."""

from __future__ import annotations

from typing import Any, ClassVar

from drivers.local.skills.base import Skill, SkillContext, SkillResult, patterns


class TimeSkill(Skill):
    name: ClassVar[str] = "get_time"
    description: ClassVar[str] = "Tell the current local time."
    grammar: ClassVar[str] = "what time is it | what's the time | tell me the time"
    patterns = patterns(
        r"\bwhat time is it\b", r"\bwhat(?:'s| is) the time\b", r"\btell me the time\b", r"^time$"
    )

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        now = context.now()
        hour = now.hour % 12 or 12
        suffix = "AM" if now.hour < 12 else "PM"
        spoken = f"{hour} o'clock" if now.minute == 0 else f"{hour}:{now.minute:02d}"
        return SkillResult(self.name, f"It's {spoken} {suffix}.", data={"time": now.isoformat()})


class DateSkill(Skill):
    name: ClassVar[str] = "get_date"
    description: ClassVar[str] = "Tell today's date and day of the week."
    grammar: ClassVar[str] = (
        "what's the date | what is the date | what day is it | what's today's date"
    )
    patterns = patterns(
        r"\bwhat(?:'s| is) (?:the|today's) date\b", r"\bwhat day is (?:it|today)\b", r"^date$"
    )

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        today = context.now().date()
        spoken = f"Today is {today:%A}, {today:%B} {today.day}, {today.year}."
        return SkillResult(self.name, spoken, data={"date": today.isoformat()})
