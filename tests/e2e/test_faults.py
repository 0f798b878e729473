"""Barge-in and failures through the whole hub: the answer stops, the hub recovers."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from actors.wiring import LISTENER
from runtime.hub import Hub
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import (
    PERIOD_MS,
    Transitions,
    load,
    played,
    running_hub,
    speech,
    wait_for,
    write_config,
)
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, silence

ALWAYS_LISTENING = """
    triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
    conversation: {follow_up_s: 0}
"""
SILENT_REPLY = Reply(text="ok", audio=bytes(24000 * 2 // 5))  # 200 ms of silence


def audible_span_ms(files: AlsaFiles) -> float:
    """From the first to the last non-zero sample of the output file, in ms."""
    out = played(files)
    nonzero = np.flatnonzero(out.to_numpy()[:, 0])
    assert nonzero.size, "nothing audible was played"
    return float((nonzero[-1] - nonzero[0] + 1) * 1000 / out.sample_rate)


def test_barge_in_stops_the_answer_and_truncates_to_what_was_heard(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    # a long answer (8 s), interrupted by a second question; the second answer is silent
    fake_openai.script.add_reply(Reply(text="long", audio=tone_pcm(8000), pace_s=0.05))
    fake_openai.script.add_reply(SILENT_REPLY)
    pcm = concat(silence(500), speech("What is the weather like today?"), silence(2500),
                 speech("Stop, that is enough."), silence(8000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, ALWAYS_LISTENING)))
    with running_hub(hub, alsa_files, pcm):
        assert hub.wait_for_state("speaking", 20)
        assert hub.wait_for_state("listening", 15), "the second question did not barge in"
        wait_for(lambda: "conversation.item.truncate" in fake_openai.types("in"), 5,
                 "the truncate")
        assert hub.wait_for_state("idle", 20)
    frames = fake_openai.frames_of("in", "realtime")
    types = [f.type for f in frames]
    assert "response.cancel" in types
    assert types.index("response.cancel") < types.index("conversation.item.truncate")
    truncate = next(f.payload for f in frames if f.type == "conversation.item.truncate")
    heard_ms = audible_span_ms(alsa_files)
    assert 1000 < heard_ms < 7000, "the answer was not cut in the middle"
    assert abs(truncate["audio_end_ms"] - heard_ms) <= PERIOD_MS, (truncate, heard_ms)
    out_types = fake_openai.types("out")
    assert "conversation.item.truncated" in out_types
    assert "error" not in out_types, [f.payload for f in fake_openai.frames_of("out")
                                      if f.type == "error"]


def test_provider_drop_mid_answer_reconnects_and_the_next_turn_works(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="x", audio=tone_pcm(3000), pace_s=0.1,
                                       drop_after_audio_deltas=3))
    fake_openai.script.add_reply(Reply(text="y", audio=tone_pcm(500)))
    pcm = concat(silence(500), speech("Tell me a story."), silence(4000),
                 speech("Are you there?"), silence(8000)).data
    config = ALWAYS_LISTENING + "    feedback: {earcons: true}\n"
    hub = Hub(load(write_config(tmp_path, fake_openai, config)))
    with running_hub(hub, alsa_files, pcm):
        assert hub.wait_for_state("speaking", 20)
        assert hub.wait_for_state("offline", 10), "the drop was not noticed"
        assert hub.wait_for_state("idle", 10), "no reconnect"
        assert hub.wait_for_state("speaking", 15), "the next turn was not answered"
        assert hub.wait_for_state("idle", 10)
    assert fake_openai.realtime_connections == 2
    assert Transitions(caplog.records).states() == [
        "IDLE", "LISTENING", "THINKING", "SPEAKING", "OFFLINE", "IDLE", "LISTENING", "THINKING",
        "SPEAKING", "IDLE"]
    assert fake_openai.types("in").count("session.update") == 2  # settings replayed
    said = [r.getMessage() for r in caplog.records if r.name == "actors.playback"]
    assert "earcon OFFLINE" in said, said


def test_an_actor_that_raises_is_restarted_and_the_next_turn_works(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="fine", audio=tone_pcm(500)))
    pcm = concat(silence(1500), speech("How are you?"), silence(8000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, ALWAYS_LISTENING)))
    with running_hub(hub, alsa_files, pcm):
        assert hub.wiring is not None
        first = hub.wiring.peers.get(LISTENER)
        assert first is not None
        first.tell("not a message the listener knows")  # raises inside the actor
        wait_for(lambda: hub.wiring is not None and hub.wiring.peers.get(LISTENER) not in
                 (None, first), 5, "the listener's restart")
        assert hub.wait_for_state("speaking", 15), "no turn after the restart"
        assert hub.wait_for_state("idle", 10)
    messages = [r.getMessage() for r in caplog.records]
    assert any("listener actor failed" in msg for msg in messages)
    assert any("listener actor restarted (restart #1)" in msg for msg in messages)
