"""Cut text into sentences so speech can start after the first one."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?;:])\s+|\n+")
_MIN_LETTERS = 2  # shorter pieces ("1.", "Mr.") are joined to the next one


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, stripped; fragments joined to a neighbour."""
    pieces = [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]
    sentences: list[str] = []
    carry = ""
    for piece in pieces:
        joined = f"{carry} {piece}".strip()
        if sum(ch.isalpha() for ch in piece) < _MIN_LETTERS or _ends_in_title(piece):
            carry = joined
            continue
        sentences.append(joined)
        carry = ""
    if carry:
        if sentences and not any(ch.isalnum() for ch in carry):
            sentences[-1] += carry
        else:
            sentences.append(carry)
    return sentences


def _ends_in_title(piece: str) -> bool:
    last = piece.rsplit(" ", 1)[-1]
    return last in ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "e.g.", "i.e.", "etc.")
