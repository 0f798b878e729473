"""The barge-in truncation rule shared by the Session actor and the library's realtime agent."""

from __future__ import annotations

from speech_api.barge_in import truncation_points


def test_an_item_is_cut_at_what_was_played() -> None:
    assert truncation_points({"a": 700}, {"a": 2000.0}, answering=False) == [("a", 700)]


def test_never_past_what_the_provider_sent() -> None:
    # the speaker counted a little more (its buffer padding) than the answer had
    assert truncation_points({"a": 2100}, {"a": 2000.4}, answering=True) == [("a", 2000)]


def test_nothing_heard_means_no_truncation() -> None:
    assert truncation_points({"a": 0, "b": -5}, {"a": 2000.0, "b": 10.0}, answering=True) == []


def test_an_item_of_no_current_answer_is_left_alone() -> None:
    assert truncation_points({"old": 500}, {"a": 2000.0}, answering=True) == []


def test_a_finished_item_heard_in_full_is_cut_only_while_the_answer_goes_on() -> None:
    played, received = {"a": 2000, "b": 300}, {"a": 2000.0, "b": 1500.0}
    assert truncation_points(played, received, answering=False) == [("b", 300)]
    assert truncation_points(played, received, answering=True) == [("a", 2000), ("b", 300)]
