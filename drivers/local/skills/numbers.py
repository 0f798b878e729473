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
    """Lower case, digits split from letters, "%" as "percent", punctuation (but
    apostrophes and decimal points) gone: "Set a 10-minute timer, 50%." ->
    "set a 10 minute timer 50 percent"."""
    text = text.lower().replace("-", " ").replace("%", " percent ")
    text = re.sub(r"[\u2018\u2019\u02bc`]", "'", text)  # Whisper writes curly apostrophes
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # a full stop, not "1.5"
    text = re.sub(r"[^a-z0-9'. ]+", " ", text)
    return " ".join(text.split())


def parse_number(words: list[str], start: int = 0) -> tuple[int, int] | None:
    """The number spelled at ``words[start:]`` and the index after it, else None."""
    if start >= len(words):
        return None
    word = words[start]
    if word.isdigit():
        return int(word), start + 1
    if re.fullmatch(r"\d+\.\d+", word):
        return round(float(word)), start + 1
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
    found = find_duration(normalise(text).split())
    return found[2] if found else None


def find_duration(words: list[str]) -> tuple[int, int, int] | None:
    """The first duration in normalised ``words``: (start, end, seconds), else None."""
    for start in range(len(words)):
        fixed = _fixed_phrase(words, start)
        if fixed:
            return start, fixed[0], fixed[1]
        found = _duration_at(words, start)
        if found:
            return start, found[0], found[1]
    return None


def _fixed_phrase(words: list[str], start: int) -> tuple[int, int] | None:
    """ "half an hour", "a quarter of an hour", "quarter hour": (end, seconds)."""
    i = start + (words[start] == "a")  # "a quarter of an hour"
    if words[i : i + 3] == ["half", "an", "hour"]:
        return i + 3, 1800
    if words[i : i + 4] == ["quarter", "of", "an", "hour"]:
        return i + 4, 900
    if words[i : i + 2] == ["quarter", "hour"]:
        return i + 2, 900
    return None


def _duration_at(words: list[str], start: int) -> tuple[int, int] | None:
    """ "1 hour 30 minutes", "two and a half minutes" at ``start``: (end, seconds)."""
    total, i, end = 0.0, start, start
    while i < len(words):
        number = parse_number(words, i)
        if number is None:
            break
        value, j = float(number[0]), number[1]
        if words[j : j + 3] == ["and", "a", "half"]:  # "two and a half minutes"
            value, j = value + 0.5, j + 3
        unit = _unit(words[j]) if j < len(words) else None
        if unit is None:
            break
        total += value * unit
        i = end = j + 1
        if words[i : i + 3] == ["and", "a", "half"]:  # "a minute and a half"
            total += unit / 2
            i = end = i + 3
        elif i < len(words) and words[i] == "and":
            i += 1
    return (end, round(total)) if total else None


def say_duration(seconds: int) -> str:
    """``seconds`` the way a person says it: "1 hour 30 minutes", "45 seconds"."""
    parts = []
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if value:
            parts.append(f"{value} {unit}{'' if value == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
