"""Word error rate and which reference words were heard, for read speech.

Whisper writes "Mr. John Dashwood" and "ill-disposed"; the LibriVox transcripts write
"mister john dashwood" and "ill disposed": both are reduced to bare lower-case words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; hyphenated words split; titles spelt out."""
    bare = re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " "))
    return [_SPOKEN.get(w, w) for w in bare.split()]


@dataclass(frozen=True, slots=True)
class Alignment:
    reference: int  # words in the reference
    substitutions: int
    deletions: int
    insertions: int
    longest_deleted_run: int  # consecutive reference words with nothing heard for them

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.errors / max(1, self.reference)


def align(reference: list[str], hypothesis: list[str]) -> Alignment:
    """A minimum-edit alignment of the word lists, with its error counts."""
    n, m = len(reference), len(hypothesis)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = reference[i - 1] == hypothesis[j - 1]
            cost[i][j] = min(cost[i - 1][j - 1] + (not same), cost[i - 1][j] + 1,
                             cost[i][j - 1] + 1)
    subs = dels = ins = run = longest = 0
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            subs += reference[i - 1] != hypothesis[j - 1]
            i, j, run = i - 1, j - 1, 0
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            dels, run, i = dels + 1, run + 1, i - 1
            longest = max(longest, run)
        else:
            ins, j, run = ins + 1, j - 1, 0
    return Alignment(n, subs, dels, ins, longest)
