"""Soak: many accelerated turns through the whole hub with faults mixed in; RSS and
thread count are sampled and must stay flat.

CI runs ``MAIGIC_SOAK_TURNS`` (default 30) turns; the full run is
``MAIGIC_CHAOS_SPEED=6 MAIGIC_SOAK_TURNS=2000 .venv/bin/pytest tests/soak -s``
(50 minutes here). The
summary (with the RSS and thread samples) goes to ``/tmp/maigic-chaos/soak-N.json``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.chaos.harness import DEVICE_FAULTS, PROVIDER_FAULTS, ChaosRig, Tally
from tests.chaos.procstat import rss_kib
from tests.chaos.summary import publish
from tests.fakes.openai_server import FakeOpenAIServer

FAULT_RATE = 0.2  # one turn in five has a fault
WARM_UP = 0.1  # the first 10% of turns load engines, caches and the allocator's pools


@pytest.mark.timeout(4 * 3600)
def test_soak(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    turns = int(os.environ.get("MAIGIC_SOAK_TURNS", "30"))
    tally = Tally(name=f"soak-{turns}")
    samples: list[tuple[int, int, int]] = []  # (turn, RSS KiB, threads)
    every = max(1, turns // 40)
    started = time.monotonic()
    with ChaosRig(tmp_path, fake_openai, seed=turns) as rig:
        faults = (*PROVIDER_FAULTS[1:], *DEVICE_FAULTS)
        for index in range(turns):
            fault = rig.rng.choice(faults) if rig.rng.random() < FAULT_RATE else "none"
            rig.turn(tally, fault)
            if index % every == 0 or index == turns - 1:
                samples.append((index + 1, rss_kib(), threading.active_count()))
        outcome = rig.result(tally, started)
    row = outcome.row
    warm = [s for s in samples if s[0] > turns * WARM_UP] or samples
    row.update(rss_kib_start=warm[0][1], rss_kib_end=samples[-1][1],
               rss_kib_max=max(s[1] for s in warm), threads_start=warm[0][2],
               threads_end=samples[-1][2], samples=samples)
    publish(row)
    outcome.assert_survived()
    # flat: no thread leak, and RSS after warm-up grows by less than 16 MiB
    assert max(s[2] for s in warm) - min(s[2] for s in warm) <= 3, samples
    assert row["rss_kib_end"] - row["rss_kib_start"] < 16 * 1024, samples
