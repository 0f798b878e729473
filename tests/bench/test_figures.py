"""The benchmarks' arithmetic: which stamps are paired, and what is left out (no hub run)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench import figures as fg
from tests.bench.harness import ChildRun, Mark, Scenario
from tests.bench.stats import percentile, summarize

MS = 1_000_000
START = 1_000 * MS  # the FIFO feeder's start


def _run(records: dict[str, Any], marks: list[Mark] | None = None,
         server_in: list[tuple[str, int]] | None = None) -> ChildRun:
    base: dict[str, Any] = {name: [] for name in (
        "sends", "deltas", "responses", "writes", "flushes", "interrupts", "end_turns", "vad",
        "wakes", "states")}
    base["counters"] = {}
    base.update(records)
    child = {"ready_ns": START, "samples": [], "records": base}
    return ChildRun(Scenario("t", b"", marks or []), child, START, "no limit",
                    server_in or [], "", endpoint_ms=700)


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0
    assert summarize([]) == {"n": 0}
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_capture_hop_leaves_out_the_preroll_burst() -> None:
    opened = START + 500 * MS
    sends = [
        (opened - 100 * MS, 20.0, opened + 1 * MS),  # pre-roll: captured before the mic opened
        (opened + 20 * MS, 20.0, opened + 41 * MS),  # live: read returned at +40, sent at +41
        (opened + 40 * MS, 20.0, opened + 63 * MS),
    ]
    after_read, raw = fg.capture_to_ws(_run({"sends": sends,
                                             "states": [("listening", "x", opened)]}))
    assert after_read == [pytest.approx(1.0), pytest.approx(3.0)]
    assert raw == [pytest.approx(21.0), pytest.approx(23.0)]


def test_delta_hop_pairs_each_delta_with_the_first_write_after_it() -> None:
    deltas = [("r1", "i1", START, 20.0), ("r1", "i1", START + 40 * MS, 20.0),
              ("r1", "i1", START + 80 * MS, 20.0)]
    writes = [("i1", 20, START + 1 * MS), ("i1", 20, START + 42 * MS),
              ("other", 20, START + 81 * MS), ("i1", 20, START + 130 * MS)]
    # the third delta's first write comes after a later delta would have arrived: no sample
    deltas.append(("r1", "i1", START + 120 * MS, 20.0))
    assert fg.delta_to_written(_run({"deltas": deltas, "writes": writes})) == \
        [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(10.0)]


def test_voice_to_voice_subtracts_the_endpoint_and_splits_at_the_vad() -> None:
    end_ms = 5000.0  # speech end in the input, after the hub was ready and settled
    end_ns = START + int(end_ms * MS)
    records = {
        "vad": [("end", end_ns + 80 * MS, end_ns + 810 * MS)],
        "end_turns": [(end_ns + 811 * MS, end_ns + 812 * MS)],
        "responses": [("r1", end_ns + 815 * MS)],
        "deltas": [("r1", "i1", end_ns + 816 * MS, 20.0)],
        "writes": [("i1", 20, end_ns + 818 * MS)],
    }
    v2v = fg.voice_to_voice(_run(records, [Mark("end", end_ms)]))
    assert v2v["added"] == [pytest.approx(118.0)]
    assert v2v["vad_lag"] == [pytest.approx(80.0)]
    assert v2v["after_decision"] == [pytest.approx(8.0)]
    assert v2v["hub_only"] == [pytest.approx(4.0)]  # 2 ms to send the commit + 2 ms to play


def test_marks_before_the_hub_settled_are_not_used() -> None:
    assert fg.usable_marks(_run({}, [Mark("end", 1000.0), Mark("end", 9000.0)]), "end") == \
        [START + 9000 * MS]


def test_barge_in_pairs_onset_decision_flush_and_cancel() -> None:
    onset_ms = 6000.0
    onset = START + int(onset_ms * MS)
    records = {
        "vad": [("start", onset - 10 * MS, onset + 140 * MS)],
        "states": [("speaking", "answer audio arrived", onset - 900 * MS),
                   ("listening", "barge-in by voice", onset + 240 * MS)],
        "flushes": [(onset + 241 * MS, onset + 242 * MS)],
        "interrupts": [(onset + 243 * MS, onset + 246 * MS, True)],
        "writes": [("i1", 900, onset + 150 * MS), ("i1", 920, onset + 190 * MS)],
    }
    got = fg.barge_in(_run(records, [Mark("barge", onset_ms)],
                           [("response.cancel", onset + 245 * MS)]))
    assert got["onset_to_silenced"] == [pytest.approx(242.0)]
    assert got["first_frame_to_silenced"] == [pytest.approx(252.0)]
    assert got["decision_to_silenced"] == [pytest.approx(2.0)]
    assert got["decision_to_cancel_sent"] == [pytest.approx(6.0)]
    assert got["decision_to_cancel_received"] == [pytest.approx(5.0)]
    assert got["writes_after_flush"] == [0.0]


def test_barge_in_pairs_the_flush_with_the_speech_that_caused_it() -> None:
    # the VAD decided 70 ms before the input's onset mark; the next turn's start comes later
    onset_ms = 6000.0
    onset = START + int(onset_ms * MS)
    records = {
        "vad": [("start", onset - 220 * MS, onset - 70 * MS),
                ("start", onset + 4800 * MS, onset + 5000 * MS)],
        "states": [("listening", "barge-in by voice", onset + 180 * MS),
                   ("listening", "barge-in by voice", onset + 5100 * MS)],
        "flushes": [(onset + 180 * MS, onset + 181 * MS)],
    }
    got = fg.barge_in(_run(records, [Mark("barge", onset_ms)]))
    assert got["first_frame_to_silenced"] == [pytest.approx(401.0)]
    assert got["decision_to_silenced"] == [pytest.approx(1.0)]
    assert got["onset_to_silenced"] == [pytest.approx(181.0)]


def test_playback_gaps_find_a_write_after_the_audio_ran_out() -> None:
    writes = [("i1", 20, START), ("i1", 40, START + 20 * MS), ("i1", 60, START + 39 * MS),
              ("i1", 80, START + 75 * MS),  # due by +60: a 15 ms gap
              ("i1", 100, START + 90 * MS)]  # on time again after re-anchoring
    assert fg.playback_gaps(_run({"writes": writes})) == [pytest.approx(15.0)]
