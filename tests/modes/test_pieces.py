"""The chained mode's sentence splitter and history, on their own."""

from __future__ import annotations

import pytest

from speech_api.history import ConversationHistory
from speech_api.sentences import SentenceStream


def feed_all(deltas: list[str]) -> list[list[str]]:
    stream = SentenceStream()
    out = [stream.feed(d) for d in deltas]
    return [*out, stream.flush()]


def test_a_sentence_is_ready_as_soon_as_its_end_punctuation_arrives() -> None:
    assert feed_all(["Sure.", " Done", " now.", " Bye"]) == [
        ["Sure."], [], ["Done now."], [], ["Bye"]]


def test_numbers_and_abbreviations_do_not_end_a_sentence() -> None:
    out = feed_all(["It costs 3", ".5 dollars. Mr.", " Smith", " agrees", "!"])
    assert out == [[], ["It costs 3.5 dollars."], [], [], ["Mr. Smith agrees!"], []]


def test_several_sentences_in_one_delta_and_a_newline() -> None:
    assert feed_all(["One. Two! Three", "\n", "Four"]) == [
        ["One.", "Two!"], ["Three"], [], ["Four"]]


def test_history_keeps_whole_turns_up_to_the_limit() -> None:
    history = ConversationHistory(2)
    for n in range(3):
        history.add_turn([{"role": "user", "content": f"q{n}"},
                          {"role": "assistant", "content": f"a{n}"}])
    messages = history.messages("be brief", [{"role": "user", "content": "now"}])
    assert [m["content"] for m in messages] == ["be brief", "q1", "a1", "q2", "a2", "now"]
    assert len(history) == 2


def test_history_of_zero_turns_remembers_nothing_and_bad_limits_are_refused() -> None:
    history = ConversationHistory(0)
    history.add_turn([{"role": "user", "content": "q"}])
    assert history.messages(None, []) == []
    with pytest.raises(ValueError, match="max_turns must be >= 0"):
        ConversationHistory(-1)
