"""Chaos at the provider: drops before/during/after answers, refusals, slowness, 429/500.

Each turn is a spoken question through the whole hub under one random fault. A
turn that got no answer while the provider was away is asked again once it is back;
every question must end answered (online, or locally where the fallback applies),
with no crash, no hang and no actor restart. ``MAIGIC_CHAOS_LONG=1`` runs 100 turns.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.chaos.harness import PROVIDER_FAULTS, ChaosRig, Tally, chaos_turns
from tests.chaos.summary import publish
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.mark.timeout(900)
def test_provider_chaos(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    turns = chaos_turns(default=16)
    tally = Tally(name=f"provider-chaos-{turns}")
    started = time.monotonic()
    with ChaosRig(tmp_path, fake_openai, seed=turns) as rig:
        # every fault at least once, then at random (a third of turns fault-free)
        faults = list(PROVIDER_FAULTS) + [
            rig.rng.choice(PROVIDER_FAULTS) for _ in range(turns - len(PROVIDER_FAULTS))]
        for fault in faults[:turns]:
            rig.turn(tally, fault)
        outcome = rig.result(tally, started)
    publish(outcome.row)
    outcome.assert_survived()
    assert outcome.row["provider_connections"] > sum(
        tally.faults[f] for f in ("drop_before", "drop_during", "refuse")), "no reconnects?"
