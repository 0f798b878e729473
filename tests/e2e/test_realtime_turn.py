"""A spoken question through the whole hub in realtime mode, answered into a WAV."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runtime.hub import Hub
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import (
    Transitions,
    load,
    loud_ms,
    played,
    question,
    running_hub,
    wait_for,
    write_config,
)
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer


def test_always_listening_turn_with_local_vad(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="It is noon.", ms_per_char=100))  # 1.1 s of tone
    config = load(write_config(tmp_path, fake_openai, """
        triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
        conversation: {follow_up_s: 0}
    """))
    hub = Hub(config)
    with running_hub(hub, alsa_files, question()):
        assert hub.ready.wait(5), "capture and playback never opened"
        assert hub.wait_for_state("thinking", 15), f"no turn; state {hub.state}"
        assert hub.wait_for_state("speaking", 10)
        assert hub.wait_for_state("idle", 10)
        wait_for(lambda: bool(hub.turns), 2, "the turn's timing")
    sent = fake_openai.types("in")
    assert sent[0] == "session.update"
    assert "input_audio_buffer.append" in sent
    commit = sent.index("input_audio_buffer.commit")
    assert sent[commit + 1] == "response.create"
    assert "input_audio_buffer.append" in sent[:commit]
    # the answer (1100 ms of tone) is in the output file
    assert 900 <= loud_ms(played(alsa_files)) <= 1300
    assert Transitions(caplog.records).states() == ["IDLE", "LISTENING", "THINKING", "SPEAKING",
                                                    "IDLE"]
    figures = hub.turns[-1]
    assert 0 < figures["first_written"] < 5000
    assert list(figures) == ["commit_sent", "response_started", "first_delta", "first_written"]


def test_always_listening_with_server_vad(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="Sunny.", audio=tone_pcm(700)))
    config = load(write_config(tmp_path, fake_openai, """
        triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
        openai: {realtime: {turn_detection: server_vad, silence_duration_ms: 600}}
    """))
    hub = Hub(config)
    with running_hub(hub, alsa_files, question("Will it rain tomorrow?")):
        assert hub.wait_for_state("speaking", 15), f"no answer; state {hub.state}"
        assert hub.wait_for_state("idle", 10)
    sent = fake_openai.types("in")
    assert "input_audio_buffer.commit" not in sent  # the server decided the turn
    assert "response.create" not in sent
    update = fake_openai.frames_of("in")[0].payload
    assert update["session"]["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert 550 <= loud_ms(played(alsa_files)) <= 800
    assert list(hub.turns[-1]) == ["response_started", "first_delta", "first_written"]
    assert Transitions(caplog.records).states() == ["IDLE", "LISTENING", "THINKING", "SPEAKING",
                                                    "IDLE"]
