"""Offline skills: intents from text and from synthesized speech, tools, timers."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.local.skills import HubStatus, SkillContext, SkillRegistry, TimerRing, TimerScheduler
from drivers.local.skills.numbers import (
    TEENS,
    TENS,
    UNITS,
    normalise,
    parse_duration,
    parse_number,
    say_duration,
)
from drivers.local.skills.schema import schema_errors
from drivers.local.stt import LocalSpeechToTextClient
from tests.local.commands import COMMANDS, OUT_OF_GRAMMAR, SPEAKING_VOICES
from tests.local.speech import flite


class FakeHub:
    """What the hub gives the skills, recorded."""

    def __init__(self) -> None:
        self.volume = 50
        self.muted: list[bool] = []
        self.rings: list[tuple[float, TimerRing]] = []
        self.rang = threading.Event()
        self.context = SkillContext(
            on_timer_ring=self.ring,
            get_volume=lambda: self.volume,
            set_volume=self.set_volume,
            set_muted=self.muted.append,
            status=lambda: HubStatus("realtime", True, True, 80),
            last_answer=lambda: "It's 3:00 PM.",
            now=lambda: datetime(2026, 11, 24, 15, 7),
        )

    def set_volume(self, level: int) -> None:
        self.volume = level

    def ring(self, ring: TimerRing) -> None:
        self.rings.append((time.monotonic(), ring))
        self.rang.set()


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def skills(hub: FakeHub) -> Any:
    with SkillRegistry(hub.context) as registry:
        yield registry


@pytest.mark.parametrize(("text", "skill", "arguments"), COMMANDS)
def test_every_command_reaches_its_skill(
    text: str, skill: str, arguments: dict[str, Any], skills: SkillRegistry
) -> None:
    found = skills.match(text)
    assert found is not None
    assert (found[0].name, found[1]) == (skill, arguments)


@pytest.mark.parametrize("text", [*OUT_OF_GRAMMAR, "", "   ", "timer", "set the table"])
def test_other_text_reaches_no_skill(text: str, skills: SkillRegistry) -> None:
    assert skills.handle_utterance(text) is None


def test_online_style_transcripts(skills: SkillRegistry) -> None:
    """Online models write digits and punctuation."""
    assert skills.match("Set a 10-minute timer, please.") is not None
    found = skills.match("Can you set a timer for 1 hour 30 minutes?")
    assert found is not None and found[1] == {"duration_seconds": 5400}
    found = skills.match("Set the volume to 75 percent")
    assert found is not None and found[1] == {"level": 75}
    found = skills.match("What's the time?")
    assert found is not None and found[0].name == "get_time"


def test_answers(skills: SkillRegistry, hub: FakeHub) -> None:
    def say(text: str) -> str:
        result = skills.handle_utterance(text)
        assert result is not None
        return result.speech

    assert say("what time is it") == "It's 3:07 PM."
    assert say("what's the date") == "Today is Tuesday, November 24, 2026."
    assert say("volume up") == "Volume 60 percent." and hub.volume == 60
    assert say("turn it down") == "Volume 50 percent."
    assert say("set the volume to one hundred percent") == "Volume 100 percent."
    assert say("volume up") == "Volume 100 percent."  # clamped
    muted = skills.handle_utterance("mute")
    assert muted is not None and muted.earcon == "muted" and hub.muted == [True]
    assert say("unmute") == "Unmuted." and hub.muted == [True, False]
    assert say("what's your status") == (
        "I am in realtime mode. I am online. The earpiece is connected. "
        "Earpiece battery at 80 percent."
    )
    assert say("say that again") == "It's 3:00 PM."
    assert say("list the timers") == "There are no timers running."
    assert say("cancel the timer") == "There is no timer to cancel."
    assert say("set a timer for a minute and a half") == "Timer set for 1 minute 30 seconds."
    assert say("set a pasta timer for ten minutes") == "Timer set for 10 minutes."
    assert say("list the timers") == "1 minute 30 seconds left; pasta timer, 10 minutes left."
    assert say("cancel the pasta timer") == "Cancelled 1 timer."
    assert say("cancel all timers") == "Cancelled 1 timer."


def test_timers_ring_on_time_and_can_be_cancelled(hub: FakeHub) -> None:
    with SkillRegistry(hub.context) as skills:
        started = time.monotonic()
        assert "error" not in skills.call_tool("set_timer", '{"duration_seconds": 1}')
        skills.call_tool("set_timer", '{"duration_seconds": 2, "label": "tea"}')
        skills.call_tool("set_timer", '{"duration_seconds": 30, "label": "cake"}')
        assert hub.rang.wait(5)
        hub.rang.clear()
        assert hub.rang.wait(5)
        when = [at - started for at, _ in hub.rings]
        assert [r.message for _, r in hub.rings] == [
            "Your 1 second timer is done.", "Your tea timer is done."
        ]
        assert 0.95 <= when[0] < 1.6 and 1.95 <= when[1] < 2.6  # generous deadline, never early
        assert hub.rings[0][1].earcon == "timer"
        assert skills.call_tool("list_timers", "{}").startswith("cake timer, ")
    # closing stops the timer thread; the pending timer never rings
    assert not [t for t in threading.enumerate() if t.name == "skill-timers"]
    assert len(hub.rings) == 2


def test_scheduler_uses_its_clock_and_refuses_bad_lengths() -> None:
    rings: list[TimerRing] = []
    scheduler = TimerScheduler(rings.append)
    try:
        with pytest.raises(ValueError, match="between 1 second and 24 hours"):
            scheduler.schedule(0)
        with pytest.raises(ValueError, match="between 1 second and 24 hours"):
            scheduler.schedule(90_000)
        scheduler.schedule(100, "a")
        [(timer, left)] = scheduler.pending()
        assert timer.label == "a" and 99 < left <= 100
    finally:
        scheduler.close()
    with pytest.raises(RuntimeError, match="closed"):
        scheduler.schedule(5)


def test_tool_calls_never_raise(skills: SkillRegistry, hub: FakeHub) -> None:
    assert skills.call_tool("set_volume", '{"level": 30}') == "Volume 30 percent."
    assert hub.volume == 30
    assert skills.call_tool("get_time", "") == "It's 3:07 PM."
    assert skills.call_tool("launch_rocket", "{}").startswith("error: unknown tool 'launch_rocket'")
    assert "not valid JSON" in skills.call_tool("set_volume", "{level: 30")
    bad = skills.call_tool("set_volume", '{"level": "loud"}')
    assert bad == (
        "error: bad arguments for set_volume: arguments.level must be of type integer, got str"
    )
    assert "at most 100" in skills.call_tool("set_volume", '{"level": 300}')
    assert "missing the required field 'level'" in skills.call_tool("set_volume", "{}")
    assert "unexpected field 'db'" in skills.call_tool("set_volume", '{"level": 3, "db": 1}')
    assert "must be of type object" in skills.call_tool("set_volume", "[1]")
    assert "must be of type boolean" in skills.call_tool("set_muted", '{"muted": 1}')
    # a failing skill comes back as text too
    broken = SkillRegistry(SkillContext())
    try:
        assert broken.call_tool("set_volume", '{"level": 3}') == (
            "error: set_volume failed: this hub has no volume control"
        )
    finally:
        broken.close()


def test_tool_specs_and_grammar(skills: SkillRegistry) -> None:
    specs = skills.tool_specs()
    names = [s["name"] for s in specs]
    assert len(names) == len(set(names)) == len(skills.skills)
    for spec in specs:
        assert spec["type"] == "function" and spec["description"]
        assert spec["parameters"]["type"] == "object"
        json.dumps(spec)  # plain JSON
    nested = skills.tool_specs(nested=True)
    assert nested[0]["function"]["name"] == names[0]
    grammar = skills.jsgf()
    assert grammar.startswith("#JSGF V1.0;") and "<set_timer>" in grammar
    LocalSpeechToTextClient(mode="grammar", grammar=grammar)  # pocketsphinx accepts it


def test_duplicate_skill_names_are_refused() -> None:
    with SkillRegistry() as registry, pytest.raises(ValueError, match="unique"):
        SkillRegistry(skills=[registry.skills[0], registry.skills[0]])


@pytest.mark.parametrize("voice", SPEAKING_VOICES)
def test_commands_end_to_end_from_synthesized_speech(
    voice: str, command_stt: LocalSpeechToTextClient, skills: SkillRegistry
) -> None:
    skill_right, all_right, misses = 0, 0, []
    for text, skill, arguments in COMMANDS:
        heard = command_stt.transcribe_blocking(flite(text, voice))
        found = skills.match(heard)
        skill_right += found is not None and found[0].name == skill
        exact = found is not None and (found[0].name, found[1]) == (skill, arguments)
        all_right += exact
        if not exact:
            misses.append((text, heard))
    print(f"{voice}: {skill_right}/{len(COMMANDS)} reached their skill, "
          f"{all_right} with the right arguments; misses {misses}")
    assert skill_right >= len(COMMANDS) - 1
    assert all_right >= len(COMMANDS) - 2  # "ten" and "two" minutes sound alike to rms


def _words(n: int) -> str:
    if n < 10:
        return UNITS[n]
    if n < 20:
        return TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return TENS[tens - 2] + (f" {UNITS[unit]}" if unit else "")


@given(st.integers(min_value=1, max_value=99))
def test_number_words_round_trip(n: int) -> None:
    assert parse_number(_words(n).split()) == (n, len(_words(n).split()))
    assert parse_number([str(n)]) == (n, 1)


@given(st.integers(min_value=1, max_value=23), st.integers(min_value=1, max_value=59))
def test_durations_round_trip(hours: int, minutes: int) -> None:
    spoken = f"set a timer for {_words(hours)} hours and {_words(minutes)} minutes"
    assert parse_duration(spoken) == hours * 3600 + minutes * 60
    assert parse_duration(say_duration(hours * 3600 + minutes * 60)) == hours * 3600 + minutes * 60


@given(st.text(max_size=60))
def test_parsers_accept_any_text(text: str) -> None:
    normalise(text)
    parse_duration(text)
    with SkillRegistry() as registry:
        registry.match(text)


def test_duration_phrases() -> None:
    assert parse_duration("a minute and a half") == 90
    assert parse_duration("half an hour") == 1800
    assert parse_duration("an hour and a half") == 5400
    assert parse_duration("5 min") == 300
    assert parse_duration("twenty five seconds") == 25
    assert parse_duration("nothing here") is None
    assert say_duration(3661) == "1 hour 1 minute 1 second"


def test_schema_checker() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "number", "enum": [1, 2.5]}}}
    assert schema_errors(schema, {"x": 2.5}) == []
    assert schema_errors(schema, {"x": True}) == ["arguments.x must be of type number, got bool"]
    assert schema_errors(schema, {"x": 3}) == ["arguments.x must be one of [1, 2.5], got 3"]
