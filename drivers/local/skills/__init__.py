"""Offline skills: small intents answered without a network, also offered as tools."""

from drivers.local.skills.base import HubStatus, Skill, SkillContext, SkillResult, TimerRing
from drivers.local.skills.registry import SkillRegistry, default_skills
from drivers.local.skills.timers import TimerScheduler

__all__ = [
    "HubStatus",
    "Skill",
    "SkillContext",
    "SkillRegistry",
    "SkillResult",
    "TimerRing",
    "TimerScheduler",
    "default_skills",
]
