"""pocketsphinx on its language model's 40 000 most frequent words (28 MB less), with
every word the grammar needs kept."""

from __future__ import annotations

from pathlib import Path

from drivers.local.stt import LocalSpeechToTextClient
from drivers.local.vocabulary import (
    VOCABULARY_FILE,
    VOCABULARY_WORDS,
    make_vocabulary_file,
    restricted_dictionary,
)
from tests.local.speech import flite

RARE = "kumquat"  # in pocketsphinx's dictionary, not among the 40 000 most frequent words


def _words(path: Path) -> set[str]:
    return {line.split()[0].split("(")[0] for line in path.read_text().splitlines() if line}


def test_the_shipped_list_is_what_the_installed_model_gives(tmp_path: Path) -> None:
    made = tmp_path / "vocabulary.txt"
    assert make_vocabulary_file(made) == VOCABULARY_WORDS
    assert made.read_text() == VOCABULARY_FILE.read_text()
    ranked = made.read_text().split()
    assert ranked[:3] == ["the", "to", "i"]  # most frequent first
    assert RARE not in ranked


def test_the_dictionary_keeps_the_vocabulary_and_the_words_asked_for() -> None:
    plain = _words(restricted_dictionary())
    assert RARE not in plain
    assert {"timer", "minutes", "volume", "what", "time"} <= plain
    assert len(plain) == VOCABULARY_WORDS
    with_rare = restricted_dictionary([RARE, "Quixotic"])
    assert _words(with_rare) == plain | {RARE, "quixotic"}
    assert any(line.startswith(f"{RARE} ") for line in with_rare.read_text().splitlines())


def test_the_decoder_knows_the_grammar_words_even_rare_ones() -> None:
    grammar = "#JSGF V1.0;\ngrammar fruit;\npublic <order> = buy a " + RARE + " | buy a pear;\n"
    client = LocalSpeechToTextClient(mode="grammar", grammar=grammar)
    assert client.transcribe_blocking(flite(f"buy a {RARE}", "slt")) == f"buy a {RARE}"
    free = LocalSpeechToTextClient(mode="free")
    with free._decoder() as decoder:
        assert decoder.lookup_word(RARE) is None  # the free-form search does without it
        assert decoder.lookup_word("timer") is not None


def test_a_dictionary_given_by_the_caller_is_used_as_it_is() -> None:
    from pocketsphinx import get_model_path

    full = get_model_path("en-us/cmudict-en-us.dict")
    client = LocalSpeechToTextClient(mode="free", decoder_options={"dict": full})
    with client._decoder() as decoder:
        assert decoder.lookup_word(RARE) is not None
