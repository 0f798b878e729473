"""Cut text into sentences, whole or as it streams in, so speech can start early.

One splitter for everything that speaks text: the offline TTS splits a whole
answer (:func:`split_sentences`), the chained voice agents and the hub's chained
engine cut a chat model's streaming answer (:class:`SentenceStream`). One list of
abbreviations serves both, so "Dr." never ends a sentence in one and not the other.
"""

from __future__ import annotations

import re

# Words ending in a dot that do not end a sentence (titles, Latin, short forms).
ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "Prof", "Jr", "Sr", "e.g", "i.e", "etc", "vs")

_BOUNDARY = re.compile(r"(?<=[.!?;:])\s+|\n+")
_MIN_LETTERS = 2  # shorter pieces ("1.", "A.") are joined to the next one
_ENDS_SENTENCE = re.compile(r"[A-Za-z)\"'][.!?]+[\"')]?\s*$|[.!?]+[\"')]?\s+$|\n\s*$")
_ABBREVIATION_AT_END = re.compile(
    r"\b(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r"|[A-Z])\.\s*$"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, stripped; fragments joined to a neighbour."""
    pieces = [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]
    sentences: list[str] = []
    carry = ""
    for piece in pieces:
        joined = f"{carry} {piece}".strip()
        if sum(ch.isalpha() for ch in piece) < _MIN_LETTERS or ends_in_abbreviation(piece):
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


def ends_in_abbreviation(text: str) -> bool:
    """True when ``text`` ends with an abbreviation's dot ("Mr.", "e.g.", "J.")."""
    return bool(_ABBREVIATION_AT_END.search(text))


class SentenceStream:
    """Feed a streaming answer's deltas; get each sentence as soon as it is complete.

    A sentence is complete once its end punctuation is seen, either followed by
    more text or at the end of a delta (models pause there; waiting for the next
    delta would cost the whole pause). Abbreviations and numbers ("3.5") do not
    end a sentence.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        """The sentences ``delta`` completed (possibly none)."""
        self._buffer += delta
        sentences = split_sentences(self._buffer)
        if not sentences:
            return []
        if _complete(self._buffer):
            self._buffer = ""
            return sentences
        done, rest = sentences[:-1], sentences[-1]
        self._buffer = rest
        return done

    def flush(self) -> list[str]:
        """Whatever is left once the answer ended."""
        rest, self._buffer = self._buffer, ""
        return split_sentences(rest)


def _complete(text: str) -> bool:
    return bool(_ENDS_SENTENCE.search(text)) and not ends_in_abbreviation(text)
