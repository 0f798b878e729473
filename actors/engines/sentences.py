"""Cut a streaming LLM answer into sentences as the text arrives.

``feed(delta)`` returns the sentences completed so far, so each can be spoken
while the model is still writing the next. A sentence is complete once its end
punctuation is seen, either followed by more text or at the end of a delta
(models pause there; waiting for the next delta would cost the whole pause).
Abbreviations ("Mr.", "e.g.") and numbers ("3.5") do not end a sentence.
"""

from __future__ import annotations

import re

from drivers.local.sentences import split_sentences

_ENDS_SENTENCE = re.compile(r"[A-Za-z)\"'][.!?]+[\"')]?\s*$|[.!?]+[\"')]?\s+$|\n\s*$")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|e\.g|i\.e|etc|vs|[A-Z])\.\s*$")


class SentenceStream:
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
    return bool(_ENDS_SENTENCE.search(text)) and not _ABBREVIATION.search(text)
