"""The playback queue's bound and order, and the ledger's played-ms attribution."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.playback_buffer import DeviceLedger, PlaybackQueue, WallClock

pushes = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=0, max_value=50)),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(pushes=pushes, max_frames=st.integers(min_value=1, max_value=120),
       pop_sizes=st.lists(st.integers(min_value=1, max_value=40), max_size=10))
def test_queue_keeps_the_newest_audio_in_order_within_its_bound(
    pushes: list[tuple[str, int]], max_frames: int, pop_sizes: list[int]
) -> None:
    queue = PlaybackQueue(frame_bytes=2, max_frames=max_frames)
    stream = b""  # everything pushed, frames numbered so order is checkable
    labels: list[str] = []
    dropped = 0
    counter = 0
    for item, frames in pushes:
        data = b"".join((counter + i).to_bytes(2, "little") for i in range(frames))
        counter += frames
        stream += data
        labels += [item] * frames
        dropped += queue.push(item, data)
        assert queue.frames <= max_frames
    assert dropped == len(stream) // 2 - queue.frames
    expected = stream[dropped * 2 :]
    expected_labels = labels[dropped:]
    got = b""
    got_labels: list[str] = []
    for size in [*pop_sizes, 10_000]:
        data, parts = queue.pop(size)
        assert len(data) // 2 <= size
        assert sum(f for _i, f in parts) == len(data) // 2
        got += data
        for item, frames in parts:
            got_labels += [item] * frames
    assert got == expected and got_labels == expected_labels
    assert queue.frames == 0 and queue.pop(5) == (b"", [])


def test_clear_reports_waiting_items() -> None:
    queue = PlaybackQueue(2, 100)
    queue.push("a", b"\0\0" * 3)
    queue.push("b", b"\0\0" * 3)
    queue.pop(4)
    assert queue.clear() == ["b"]
    assert queue.frames == 0
    with pytest.raises(ValueError, match="at least one frame"):
        PlaybackQueue(2, 0)


def test_ledger_subtracts_what_the_device_still_holds_from_the_newest_items() -> None:
    ledger = DeviceLedger(keep_frames=100)
    ledger.record([("a", 300)])
    ledger.record([("a", 20), ("b", 30)])
    assert ledger.played(0) == {"a": 320, "b": 30}
    assert ledger.played(40) == {"a": 310, "b": 0}
    assert ledger.played(10_000) == {"a": 250, "b": 0}  # never more than the device holds
    ledger.reset()
    assert ledger.played(0) == {}


def test_wall_clock_counts_ahead_and_restarts_after_idle() -> None:
    clock = WallClock()
    clock.wrote(16000, 16000, at_ns=time.monotonic_ns())
    assert 15000 < clock.ahead(16000) <= 16000
    clock.reset()
    assert clock.ahead(16000) == 0
