"""pocketsphinx's free-form recogniser on a vocabulary of its language model's 40 000 most
frequent words, not the whole 126 000-word dictionary.

The free-form search builds its lexicon tree from every dictionary word its language
model knows: 92 MB for the whole dictionary, 64 MB for the 40 000 most frequent words
(the grammar search shares that dictionary). On the LibriVox recordings of
pocketsphinx-testdata the word error rate is the same (26.8 %; 30 000 words: 32.4 %) and
decoding takes 20 % less CPU; words beyond the first 40 000 are rare names and forms.
The skills' grammar words, and any word a caller needs, are always kept.

``pocketsphinx_vocabulary.txt`` (beside this module) lists the words, most frequent
first; it is made from the installed model by ``python -m drivers.local.vocabulary``.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

VOCABULARY_FILE = Path(__file__).with_name("pocketsphinx_vocabulary.txt")
VOCABULARY_WORDS = 40_000  # see the module's docstring for how this was chosen
_lock = threading.Lock()


def restricted_dictionary(extra_words: Iterable[str] = ()) -> Path:
    """A pronunciation dictionary with the vocabulary and ``extra_words`` (every
    pronunciation of each), written once per process and set of extra words."""
    with _lock:
        return _written(frozenset(w.lower() for w in extra_words))


def vocabulary() -> list[str]:
    return VOCABULARY_FILE.read_text(encoding="utf-8").split()[:VOCABULARY_WORDS]


@lru_cache(maxsize=4)
def _written(extra: frozenset[str]) -> Path:
    from pocketsphinx import get_model_path

    keep = set(vocabulary()) | extra
    full = Path(get_model_path("en-us/cmudict-en-us.dict"))
    fd, name = tempfile.mkstemp(prefix="maigic-pocketsphinx-", suffix=".dict")
    atexit.register(Path(name).unlink, missing_ok=True)
    with os.fdopen(fd, "w", encoding="utf-8") as out, full.open(encoding="utf-8") as lines:
        for line in lines:
            word = line.split(maxsplit=1)[0] if line.strip() else ""
            if word.split("(")[0] in keep:  # "word(2)" is word's second pronunciation
                out.write(line)
    return Path(name)


def make_vocabulary_file(out: Path = VOCABULARY_FILE) -> int:
    """Rank the dictionary's words by their unigram probability in the language model
    (most frequent first; words it does not know are left out); returns how many were
    written."""
    from pocketsphinx import NGramModel, get_model_path

    model = NGramModel.readfile(get_model_path("en-us/en-us.lm.bin"))
    full = Path(get_model_path("en-us/cmudict-en-us.dict"))
    words = {line.split(maxsplit=1)[0].split("(")[0]
             for line in full.read_text(encoding="utf-8").splitlines() if line.strip()}
    scored = [(model.prob([word]), word) for word in words]
    unknown = min(score for score, _word in scored)  # what the model gives a word it lacks
    ranked = sorted((pair for pair in scored if pair[0] > unknown), key=lambda p: (-p[0], p[1]))
    chosen = [word for _score, word in ranked[:VOCABULARY_WORDS]]
    out.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return len(chosen)


if __name__ == "__main__":
    print(f"{make_vocabulary_file()} words written to {VOCABULARY_FILE}")
    sys.exit(0)
