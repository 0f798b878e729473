"""Skills understand free-form text: how people (and Whisper) say a request, and what is not one.

Whisper writes what it hears cased and punctuated with digits ("Set a timer for 10
minutes."); pocketsphinx writes bare words ("set a timer for ten minutes"). Every
phrasing below must reach its skill with the right arguments; no sentence in
OUT_OF_SCOPE may fire any skill (the hub answers those with what works offline).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers.local.skills import SkillRegistry

PHRASINGS: list[tuple[str, str, dict[str, Any]]] = [
    # time
    ("What time is it?", "get_time", {}),
    ("what time is it", "get_time", {}),
    ("What's the time?", "get_time", {}),
    ("Hey, what time is it now?", "get_time", {}),
    ("Could you tell me the time, please?", "get_time", {}),
    ("Do you know what time it is?", "get_time", {}),
    # date
    ("What's the date today?", "get_date", {}),
    ("What\u2019s today\u2019s date?", "get_date", {}),
    ("What day is it?", "get_date", {}),
    ("what is the day today", "get_date", {}),
    ("Which day of the week is it today?", "get_date", {}),
    ("Tell me the date.", "get_date", {}),
    # set a timer
    ("Set a timer for 10 minutes.", "set_timer", {"duration_seconds": 600}),
    ("set a timer for ten minutes", "set_timer", {"duration_seconds": 600}),
    ("Set a 10 minute timer.", "set_timer", {"duration_seconds": 600}),
    ("Set a 10-minute timer, please.", "set_timer", {"duration_seconds": 600}),
    ("start a five minute timer", "set_timer", {"duration_seconds": 300}),
    ("Okay, can you set a timer for 1 hour and 30 minutes?", "set_timer",
     {"duration_seconds": 5400}),
    ("Timer for 90 seconds.", "set_timer", {"duration_seconds": 90}),
    ("Set a timer for two and a half minutes.", "set_timer", {"duration_seconds": 150}),
    ("set a timer for a minute and a half", "set_timer", {"duration_seconds": 90}),
    ("Set a timer for half an hour.", "set_timer", {"duration_seconds": 1800}),
    ("Remind me in 20 minutes.", "set_timer", {"duration_seconds": 1200}),
    ("Set a pasta timer for 8 minutes.", "set_timer", {"duration_seconds": 480, "label": "pasta"}),
    ("Start a 3 minute timer for the eggs.", "set_timer",
     {"duration_seconds": 180, "label": "eggs"}),
    ("I need a timer for 25 minutes.", "set_timer", {"duration_seconds": 1500}),
    # cancel / list timers
    ("Cancel my timer.", "cancel_timer", {}),
    ("cancel the timer", "cancel_timer", {}),
    ("Stop all the timers.", "cancel_timer", {}),
    ("Cancel the pasta timer.", "cancel_timer", {"label": "pasta"}),
    ("Cancel my 10 minute timer.", "cancel_timer", {}),
    ("Turn off the timer, please.", "cancel_timer", {}),
    ("What timers are set?", "list_timers", {}),
    ("Are there any timers running?", "list_timers", {}),
    ("How much time is left on my timer?", "list_timers", {}),
    ("list the timers", "list_timers", {}),
    # volume
    ("Turn up the volume.", "volume_up", {}),
    ("Louder, please.", "volume_up", {}),
    ("Can you turn it up a bit?", "volume_up", {}),
    ("Turn it down.", "volume_down", {}),
    ("It's too loud.", "volume_down", {}),
    ("Lower the volume.", "volume_down", {}),
    ("Set the volume to 40%.", "set_volume", {"level": 40}),
    ("set the volume to forty percent", "set_volume", {"level": 40}),
    ("Volume 75.", "set_volume", {"level": 75}),
    # microphone, status, repeat
    ("Mute the microphone.", "set_muted", {"muted": True}),
    ("Mute.", "set_muted", {"muted": True}),
    ("Unmute yourself.", "set_muted", {"muted": False}),
    ("Turn on the microphone.", "set_muted", {"muted": False}),
    ("What's your status?", "get_status", {}),
    ("Are you online?", "get_status", {}),
    ("Say that again.", "say_again", {}),
    ("Sorry, what did you say?", "say_again", {}),
    ("Could you repeat that?", "say_again", {}),
]

OUT_OF_SCOPE = [
    "Who wrote Hamlet?",
    "What's the weather like tomorrow?",
    "What time does the train leave?",
    "What time is it in Tokyo?",
    "I set a timer yesterday and forgot about it.",
    "The timer on the oven is broken.",
    "She spoke louder than before.",
    "Did he turn up at the party?",
    "Can you tell me a joke?",
    "Play some music.",
    "Call my mother.",
    "Remind me to buy milk.",
    "What day is the concert?",
    "Please repeat after me: the quick brown fox.",
    "What's the date of the next full moon?",
    "Volume one of the encyclopedia is missing.",
    "Set the table for dinner.",
    "The status of the project is unclear.",
    "I need ten minutes to get ready.",
    "Ten minutes later the timer rang.",
    "Mute swans are beautiful.",
    "What did you say to him yesterday?",
    "Time flies when you're having fun.",
    "He was not an ill-disposed young man.",
    "Unless to be rather cold-hearted and rather selfish is to be ill-disposed.",
    "And Mr. John Dashwood had then leisure to consider how much there might be prudently "
    "in his power to do for them.",
    "It was ten o'clock. She asked what time it was. Nobody answered, and the clock on the "
    "wall had stopped long before, so they sat in silence until morning came.",
    "",
    "Thank you.",
]


@pytest.fixture(scope="module")
def skills() -> Iterator[SkillRegistry]:
    with SkillRegistry() as registry:
        yield registry


def test_the_tables_are_big_enough() -> None:
    assert len(PHRASINGS) >= 40 and len(OUT_OF_SCOPE) >= 20


@pytest.mark.parametrize(("text", "skill", "arguments"), PHRASINGS)
def test_a_phrasing_reaches_its_skill_with_its_arguments(
    skills: SkillRegistry, text: str, skill: str, arguments: dict[str, Any]
) -> None:
    found = skills.match(text)
    assert found is not None, f"{text!r} reached no skill"
    assert (found[0].name, found[1]) == (skill, arguments)


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_speech_that_is_not_a_request_fires_no_skill(skills: SkillRegistry, text: str) -> None:
    found = skills.match(text)
    assert found is None, f"{text!r} fired {found[0].name} {found[1]}" if found else ""
