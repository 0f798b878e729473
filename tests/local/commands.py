"""The spoken command set: what is said, and the skill (and arguments) it must reach."""

from __future__ import annotations

from typing import Any

COMMANDS: list[tuple[str, str, dict[str, Any]]] = [
    ("what time is it", "get_time", {}),
    ("what's the date", "get_date", {}),
    ("set a timer for ten minutes", "set_timer", {"duration_seconds": 600}),
    ("set a timer for a minute and a half", "set_timer", {"duration_seconds": 90}),
    ("start a five minute timer", "set_timer", {"duration_seconds": 300}),
    ("set a timer for one hour and twenty minutes", "set_timer", {"duration_seconds": 4800}),
    ("cancel the timer", "cancel_timer", {}),
    ("list the timers", "list_timers", {}),
    ("volume up", "volume_up", {}),
    ("turn it down", "volume_down", {}),
    ("set the volume to forty percent", "set_volume", {"level": 40}),
    ("mute", "set_muted", {"muted": True}),
    ("unmute", "set_muted", {"muted": False}),
    ("what's your status", "get_status", {}),
    ("say that again", "say_again", {}),
]

OUT_OF_GRAMMAR = [
    "the weather is lovely today",
    "the train leaves at noon",
    "play some music",
    "call my mother",
]

SPEAKING_VOICES = ("kal16", "slt", "rms", "awb")
