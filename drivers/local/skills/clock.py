"""Time and date."""

from __future__ import annotations

from typing import Any, ClassVar

from drivers.local.skills.base import Skill, SkillContext, SkillResult, patterns


class TimeSkill(Skill):
    name: ClassVar[str] = "get_time"
    description: ClassVar[str] = "Tell the current local time."
    grammar: ClassVar[str] = "what time is it | what's the time | tell me the time"
    patterns = patterns(
        r"what time is it(?: now| right now| here)?",
        r"what time it is(?: now)?",
        r"what is the (?:current )?time(?: now| right now)?",
        r"(?:tell me |give me )?(?:the |the current )?time",
        r"what time do you have",
        r"have you got the time",
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
        r"what is (?:the |today's )?date(?: today)?",
        r"what date is (?:it|today)(?: today)?",
        r"what date it is(?: today)?",
        r"(?:which|what) day (?:of the week )?is (?:it|today)(?: today)?",
        r"(?:which|what) day (?:of the week )?it is(?: today)?",
        r"what is (?:the )?day(?: today)?",
        r"what is today",
        r"(?:tell me )?(?:the |today's )?date(?: today)?",
    )

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        today = context.now().date()
        spoken = f"Today is {today:%A}, {today:%B} {today.day}, {today.year}."
        return SkillResult(self.name, spoken, data={"date": today.isoformat()})
