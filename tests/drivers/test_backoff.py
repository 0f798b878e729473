"""Backoff: growth, cap, jitter bounds, reset, bad arguments."""

from __future__ import annotations

import random
import threading

import pytest

from drivers.backoff import Backoff


def test_delays_grow_by_factor_until_the_cap_without_jitter() -> None:
    b = Backoff(initial=0.1, maximum=1.0, factor=2.0, jitter=0.0)
    delays = [b.next_delay() for _ in range(7)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert b.attempts == 7


def test_reset_starts_again_from_initial() -> None:
    b = Backoff(initial=0.5, maximum=8.0, jitter=0.0)
    for _ in range(5):
        b.next_delay()
    b.reset()
    assert b.attempts == 0
    assert b.next_delay() == pytest.approx(0.5)


def test_jitter_stays_within_fraction_and_varies() -> None:
    b = Backoff(initial=1.0, maximum=1.0, jitter=0.2, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(200)]
    assert all(0.8 <= d <= 1.0 for d in delays)  # never above the cap
    assert len({round(d, 6) for d in delays}) > 100
    b2 = Backoff(initial=1.0, maximum=10.0, jitter=0.2, rng=random.Random(7))
    first = b2.next_delay()
    assert 0.8 <= first <= 1.2


def test_very_long_outage_does_not_overflow() -> None:
    b = Backoff(initial=0.2, maximum=10.0, factor=10.0, jitter=0.1)
    for _ in range(2000):
        assert 0 <= b.next_delay() <= 10.0


def test_thread_safe_attempt_counting() -> None:
    b = Backoff(jitter=0.0)

    def worker() -> None:
        for _ in range(500):
            b.next_delay()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert b.attempts == 2000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0}, "initial"),
        ({"initial": 2.0, "maximum": 1.0}, "maximum"),
        ({"factor": 0.5}, "factor"),
        ({"jitter": 1.5}, "jitter"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)  # type: ignore[arg-type]
