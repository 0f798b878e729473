"""What's your status: provider reachable, earpiece connected, battery."""

from __future__ import annotations

from typing import Any, ClassVar

from drivers.local.skills.base import Skill, SkillContext, SkillResult, patterns


class StatusSkill(Skill):
    name: ClassVar[str] = "get_status"
    description: ClassVar[str] = (
        "Report the hub's status: mode, whether the online provider is reachable, whether "
        "the earpiece is connected, its battery level if known, and whether it is muted."
    )
    grammar: ClassVar[str] = (
        "what's your status | what is your status | status report | are you online"
        " | how much battery does my earpiece have | what's the earpiece battery"
    )
    patterns = patterns(
        r"\b(?:what's|what is|how is) (?:your|the) status\b",
        r"\bstatus report\b",
        r"\bare you (?:online|connected)\b",
        r"^status$",
        r"\bbattery\b",
    )

    def run(self, arguments: dict[str, Any], context: SkillContext) -> SkillResult:
        status = context.status()
        parts = [f"I am in {status.mode} mode."]
        if status.provider_reachable is not None:
            parts.append("I am online." if status.provider_reachable else "I am offline.")
        if status.earpiece_connected is not None:
            parts.append(
                "The earpiece is connected."
                if status.earpiece_connected
                else "The earpiece is not connected."
            )
        if status.battery_percent is not None:
            parts.append(f"Earpiece battery at {status.battery_percent} percent.")
        elif status.earpiece_connected:
            parts.append("The earpiece does not report its battery.")
        if status.muted:
            parts.append("The microphone is muted.")
        return SkillResult(
            self.name,
            " ".join(parts),
            data={
                "mode": status.mode,
                "provider_reachable": status.provider_reachable,
                "earpiece_connected": status.earpiece_connected,
                "battery_percent": status.battery_percent,
                "muted": status.muted,
            },
        )
