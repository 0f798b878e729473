"""Spoken numbers and durations: "twenty five", "a minute and a half", "1 hour 30 minutes".

Transcripts from the offline recogniser spell numbers out; online models write
digits. Both parse to the same values. The matching JSGF rules live here too so
that grammar and parser agree on what can be said.
"""

from __future__ import annotations

import re

UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_VALUES = {w: i for i, w in enumerate(UNITS)} | {w: 10 + i for i, w in enumerate(TEENS)}
_TENS = {w: 20 + 10 * i for i, w in enumerate(TENS)}
_UNIT_SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600}

NUMBER_JSGF = {
    "number": "<digit> | <teen> | <tens> [<digit>] | one hundred",
    "digit": " | ".join(UNITS[1:]),
    "teen": " | ".join(TEENS),
    "tens": " | ".join(TENS),
}
DURATION_JSGF = {
    "duration": "<amount> <unit> [and a half | and <amount> <unit>] | half an hour",
    "amount": "<number> | a | an",
    "unit": "second | seconds | minute | minutes | hour | hours",
}


def normalise(text: str) -> str:
    """Lower case, digits split from letters, punctuation (but apostrophes) gone."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def parse_number(words: list[str], start: int = 0) -> tuple[int, int] | None:
    """The number spelled at ``words[start:]`` and the index after it, else None."""
    if start >= len(words):
        return None
    word = words[start]
    if word.isdigit():
        return int(word), start + 1
    if word in ("a", "an"):
        return 1, start + 1
    if word in _TENS:
        value = _TENS[word]
        nxt = words[start + 1] if start + 1 < len(words) else ""
        if nxt in _VALUES and 0 < _VALUES[nxt] < 10:
            return value + _VALUES[nxt], start + 2
        return value, start + 1
    if word in _VALUES:
        if start + 1 < len(words) and words[start + 1] == "hundred":
            return _VALUES[word] * 100, start + 2
        return _VALUES[word], start + 1
    return None


def _unit(word: str) -> int | None:
    return _UNIT_SECONDS.get(word.removesuffix("s"))


def parse_duration(text: str) -> int | None:
    """Seconds in the first duration said in ``text`` ("ten minutes", "an hour and a half")."""
    words = normalise(text).split()
    if "half an hour" in " ".join(words):
        return 1800
    for start in range(len(words)):
        total = _duration_at(words, start)
        if total:
            return total
    return None


def _duration_at(words: list[str], start: int) -> int | None:
    total, i, last_unit = 0, start, 0
    while i < len(words):
        number = parse_number(words, i)
        if number is None or number[1] >= len(words) or _unit(words[number[1]]) is None:
            break
        value, i = number
        last_unit = _unit(words[i]) or 0
        total += value * last_unit
        i += 1
        if words[i : i + 3] == ["and", "a", "half"]:
            total += last_unit // 2
            i += 3
        elif i < len(words) and words[i] == "and":
            i += 1
    return total or None


def say_duration(seconds: int) -> str:
    """``seconds`` the way a person says it: "1 hour 30 minutes", "45 seconds"."""
    parts = []
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if value:
            parts.append(f"{value} {unit}{'' if value == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
