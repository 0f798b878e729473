"""From what a person said to the requests in it, for the skills' whole-request patterns.

A recogniser like Whisper writes what was said as a person would ("Okay, can you set a
timer for 10 minutes, please?"); pocketsphinx writes bare words. Either way the skills
match a *whole* request, never a fragment of a longer sentence: "she spoke louder than
before" or "what time does the train leave" must not turn the volume up or tell the
time. So the text is split into sentences, normalised (:func:`normalise`), and the
politeness and fillers around a request are removed ("okay can you ... please").
Only short utterances are considered: a request is a few words, a reading is not.
"""

from __future__ import annotations

import re

from drivers.local.skills.numbers import normalise

MAX_SENTENCES = 3  # "Okay. Hmm. What time is it?"
MAX_WORDS = 30  # longer speech is a story or a question for someone else, not a command

_SENTENCE_END = re.compile(r"(?<!\d)[.!?;]+|[.!?;]+(?!\d)")
_LEADING = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um|uh|er|erm|oh|well|alright|all right|right|and|now|"
    r"please|just|excuse me|sorry)\s+)+")
_ASKING = re.compile(
    r"^(?:(?:can|could|would|will) you(?: please)?(?: just)?|(?:can|could|may) i(?: please)? "
    r"(?:ask you to|have you)|i (?:want|need|would like|'d like) you to|"
    r"i (?:want|need|would like|'d like) to|please|go ahead and|let's|let us|"
    r"(?:do|could|can|would) you(?: please)? (?:tell me|know|have)|tell me|give me)\s+")
_TRAILING = re.compile(
    r"(?:\s+(?:please|now|right now|thanks|thank you|for me|then|ok|okay|again please))+$")
_CONTRACTION = re.compile(r"\b(what|it|how|that|there|where|who)'s\b")


def requests(text: str) -> list[str]:
    """The normalised requests in ``text``: each sentence with its fillers removed.

    Empty when the speech is too long to be a request.
    """
    sentences = [s for s in (normalise(part) for part in _SENTENCE_END.split(text)) if s]
    if not sentences or len(sentences) > MAX_SENTENCES:
        return []
    if sum(len(s.split()) for s in sentences) > MAX_WORDS:
        return []
    found = [bare_request(s) for s in sentences]
    return [r for r in found if r]


def bare_request(sentence: str) -> str:
    """A normalised sentence without the fillers and politeness around the request."""
    text = _CONTRACTION.sub(r"\1 is", sentence)  # one spelling for the patterns
    for _ in range(3):  # "okay so can you please ..." peels in a few rounds
        before = text
        text = _ASKING.sub("", _LEADING.sub("", text))
        text = _TRAILING.sub("", text)
        if text == before:
            break
    return text.strip()


__all__ = ["MAX_SENTENCES", "MAX_WORDS", "bare_request", "requests"]
