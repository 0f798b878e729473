"""The local-mode benchmark's input and figures (no hub run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bench.bench_local import engine_figures, local_conversation
from tests.bench.harness import ChildRun, Mark, Scenario
from tests.e2e.hubtest import load, write_config
from tests.fakes.openai_server import FakeOpenAIServer

MS = 1_000_000
START = 1_000 * MS


def test_the_input_asks_each_question_in_local_mode_with_the_engine_asked_for(
        tmp_path: Path) -> None:
    scenario = local_conversation(2, "pocketsphinx", 4, speculate_ms=0)
    assert [m.kind for m in scenario.marks] == ["onset", "end", "onset", "end"]
    gap_ms = scenario.marks[2].ms - scenario.marks[1].ms
    assert gap_ms > 10_000  # the answer plays out before the next question
    with FakeOpenAIServer() as server:
        config = load(write_config(tmp_path, server, scenario.config))
    assert config.mode == "local"
    assert config.local.stt.engine == "pocketsphinx" and config.local.stt.threads == 4
    assert config.local.stt.speculate_after_ms == 0


def _run(writes: list[tuple[str, int, int]], end_ms: float) -> ChildRun:
    end_ns = START + int(end_ms * MS)
    records: dict[str, Any] = {name: [] for name in ("sends", "flushes", "interrupts", "wakes",
                                                     "states")}
    records.update({
        "vad": [("end", end_ns + 90 * MS, end_ns + 790 * MS)],
        "end_turns": [(end_ns + 791 * MS, end_ns + 792 * MS)],
        "responses": [("r1", end_ns + 900 * MS)],
        "deltas": [("r1", "i1", end_ns + 901 * MS, 200.0)],
        "writes": writes,
        "counters": {"playback_underruns": 0},
    })
    child = {"ready_ns": START, "samples": [], "records": records}
    return ChildRun(Scenario("t", b"", [Mark("end", end_ms)]), child, START, "limit",
                    [], "", endpoint_ms=700)


def test_figures_give_speech_end_to_first_audio_less_the_endpoint_and_the_late_writes(
        ) -> None:
    end_ms = 5000.0
    end_ns = START + int(end_ms * MS)
    writes = [("i1", 20, end_ns + 910 * MS), ("i1", 40, end_ns + 950 * MS)]  # 20 ms late
    here = engine_figures(_run(writes, end_ms), "pocketsphinx", "", "")
    assert [f.key for f in here] == ["local_first_audio_pocketsphinx"]
    assert here[0].samples == [pytest.approx(210.0)]
    pi4 = engine_figures(_run(writes, end_ms), "pocketsphinx", " (Pi 4 approx.)", "_pi4")
    assert [f.key for f in pi4] == ["local_first_audio_pocketsphinx_pi4",
                                    "local_underruns_pocketsphinx_pi4",
                                    "local_late_writes_pocketsphinx_pi4"]
    assert pi4[2].summary["median"] == 1
