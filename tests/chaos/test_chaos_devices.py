"""Chaos at the sound devices: the earpiece microphone and speaker vanish and return
50 times each (the real ALSA drivers on fake PCMs at their ``pcm_factory`` seam).

Between vanishings the hub keeps answering: the microphone comes back and turns
work again; an answer whose speaker vanished under it still ends (played on after
the reopen), never leaving the hub stuck in SPEAKING.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.chaos.harness import ChaosRig, Tally
from tests.chaos.summary import publish
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer

VANISHINGS = 50


@pytest.mark.timeout(600)
def test_capture_device_vanishes_and_returns_50_times(
    tmp_path: Path, fake_openai: FakeOpenAIServer,
) -> None:
    tally = Tally(name="capture-vanishing")
    started = time.monotonic()
    with ChaosRig(tmp_path, fake_openai) as rig:
        while rig.mic.vanished < VANISHINGS:
            if rig.mic.vanished % 10 == 0:
                rig.turn(tally, "capture_vanish")  # gone while the question is spoken
            else:
                opens = rig.mic.opens
                rig.mic.vanish(rig.rng.uniform(0.02, 0.3))
                deadline = time.monotonic() + 15
                while rig.mic.opens == opens and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert rig.mic.opens > opens, "the capture device was not reopened"
        rig.turn(tally, "none")  # and afterwards the hub still hears and answers
        outcome = rig.result(tally, started)
    publish(outcome.row)
    assert outcome.row["capture_vanished"] >= VANISHINGS
    outcome.assert_survived()


@pytest.mark.timeout(600)
def test_playback_device_vanishes_and_returns_50_times(
    tmp_path: Path, fake_openai: FakeOpenAIServer,
) -> None:
    tally = Tally(name="playback-vanishing")
    started = time.monotonic()
    with ChaosRig(tmp_path, fake_openai) as rig:
        while rig.speaker.vanished < VANISHINGS:
            # a 4 s answer (1 s at 4x) with the speaker vanishing under it every ~0.2 s
            rig.server.script.add_reply(Reply(text="long", audio=tone_pcm(4000)))
            vanishings_before = rig.speaker.vanished
            loud_before = rig.speaker.loud_frames
            rig.mic.say(rig.question)
            assert rig.hub.wait_for_state("speaking", 20), rig.hub.state
            while rig.hub.state == "speaking" and \
                    rig.speaker.vanished - vanishings_before < 5:
                rig.speaker.vanish(rig.rng.uniform(0.02, 0.15))
                time.sleep(rig.rng.uniform(0.1, 0.3))
            assert rig.hub.wait_for_state("idle", 30), f"stuck in {rig.hub.state}"
            assert rig.speaker.loud_frames > loud_before, "nothing of the answer was played"
            tally.turns_attempted += 1
            tally.answered += 1
        rig.turn(tally, "none")
        outcome = rig.result(tally, started)
    publish(outcome.row)
    assert outcome.row["playback_vanished"] >= VANISHINGS
    outcome.assert_survived()
