"""Say again: repeat the last answer."""

from __future__ import annotations

from typing import Any, ClassVar

from drivers.local.skills.base import Skill, SkillContext, SkillResult, patterns


class SayAgainSkill(Skill):
    name: ClassVar[str] = "say_again"
    description: ClassVar[str] = "Repeat the last thing the assistant said."
    grammar: ClassVar[str] = "say (that | it) again | say again | repeat that | what did you say"
    patterns = patterns(
        r"(?:say|repeat) (?:that|it|this) (?:again|one more time)",
        r"say again",
        r"repeat (?:that|it|yourself|the last answer|what you said)",
        r"what did you (?:just )?say",
        r"(?:pardon|pardon me|come again|sorry what|what was that)",
    )

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        last = context.last_answer()
        if not last:
            return SkillResult(self.name, "I have not said anything yet.")
        return SkillResult(self.name, last)
