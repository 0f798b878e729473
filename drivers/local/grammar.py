"""JSGF command grammars for the offline recogniser.

``build_jsgf({"get_time": "what time is it | ...", ...}, extra_rules)`` makes a
grammar whose public rule accepts any one command. Rule names become JSGF rule
names, so they must be letters, digits and underscores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# words the skills say that the en-us dictionary lacks, in its ARPAbet phone set
EXTRA_PRONUNCIATIONS = {"unmute": "AH N M Y UW T"}

_RULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WORD = re.compile(r"[a-z']+")


def build_jsgf(
    commands: Mapping[str, str],
    extra_rules: Mapping[str, str] | None = None,
    *,
    name: str = "commands",
) -> str:
    """A JSGF grammar: ``public <command> = <a> | <b> ...`` plus each rule."""
    if not commands:
        raise ValueError("a command grammar needs at least one command")
    rules = {**commands, **(extra_rules or {})}
    for rule, expansion in rules.items():
        if not _RULE_NAME.match(rule):
            raise ValueError(f"JSGF rule name {rule!r}: expected letters, digits and underscores")
        if not expansion.strip():
            raise ValueError(f"JSGF rule <{rule}> is empty")
    lines = [
        "#JSGF V1.0;",
        f"grammar {name};",
        "public <command> = " + " | ".join(f"<{r}>" for r in commands) + ";",
    ]
    lines += [f"<{rule}> = {expansion};" for rule, expansion in rules.items()]
    return "\n".join(lines) + "\n"


def grammar_words(jsgf: str) -> set[str]:
    """The words a grammar can produce (for checking them against a dictionary)."""
    body = "\n".join(line.split("=", 1)[1] for line in jsgf.splitlines() if "=" in line)
    body = re.sub(r"<[^>]*>", " ", body)
    return set(_WORD.findall(body.lower()))
