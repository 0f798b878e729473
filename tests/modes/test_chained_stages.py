"""Chained mode with each stage at its own endpoint: speech on a "home server", chat elsewhere.

Two fake OpenAI servers on two ports, each with its own key: the speech server
does speech-to-text and text-to-speech, the chat server the chat model. The
default ``openai.base_url`` points nowhere, so every request must go where its
stage's ``base_url`` says, with that stage's key.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.hub import Hub
from runtime.status_snapshot import status_snapshot
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import load, loud_ms, played, running_hub, write_config
from tests.fakes.openai_script import ChatReply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub
from tests.modes.modetest import heard

NOWHERE = "http://127.0.0.1:9/v1"  # the discard port: nothing answers there


@pytest.fixture
def speech_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key="sk-home-speech-server-key-000111") as server:
        yield server
        server.assert_valid()


def stages_yaml(tmp_path: Path, speech: FakeOpenAIServer, chat: FakeOpenAIServer,
                openai_extra: str = "") -> str:
    key_file = tmp_path / "speech.key"
    key_file.write_text(speech.api_key + "\n")
    key_file.chmod(0o600)
    return textwrap.dedent(f"""
    mode: chained
    openai: {{base_url: "{NOWHERE}"{openai_extra}}}
    chained:
      stt: {{provider: openai, mode: batch, base_url: "{speech.base_url}",
             api_key_file: "{key_file}"}}
      llm: {{base_url: "{chat.base_url}"}}
      tts: {{provider: openai, base_url: "{speech.base_url}", api_key_file: "{key_file}"}}
    """)


def test_speech_at_one_endpoint_and_chat_at_another_frame_by_frame(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    speech_server: FakeOpenAIServer,
) -> None:
    chat = fake_openai  # its key is $OPENAI_API_KEY: the chat stage inherits openai.*'s key
    speech_server.script.transcript = "what is the weather like"
    speech_server.script.speech_pcm = tone_pcm(800)  # each sentence: 0.8 s of tone
    chat.script.add_chat_reply(ChatReply(text="It is sunny. Take a hat."))
    pcm = concat(silence(600), flite("what is the weather like"), silence(6000)).data
    run = ModeHub(tmp_path, chat, stages_yaml(tmp_path, speech_server, chat))
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 30)
        assert run.hub.wait_for_state("idle", 10)
    assert run.heard() == ["what is the weather like"]
    assert run.answers() == ["It is sunny. Take a hat."]

    # the speech server: the turn's audio in, its transcript out, then one synthesis request
    # per sentence, in order (their PCM bodies are not frames), with the speech key; no chat
    speech_frames = [(f.direction, f.channel) for f in speech_server.frames]
    assert speech_frames == [("in", "/v1/audio/transcriptions"),
                             ("out", "/v1/audio/transcriptions"),
                             ("in", "/v1/audio/speech"), ("in", "/v1/audio/speech")]
    upload, transcript, *speak = (f.payload for f in speech_server.frames)
    assert upload["model"] == "gpt-4o-mini-transcribe" and upload["language"] == "en"
    assert transcript["text"] == "what is the weather like"
    assert [(s["input"], s["model"], s["response_format"]) for s in speak] == [
        ("It is sunny.", "gpt-4o-mini-tts", "pcm"), ("Take a hat.", "gpt-4o-mini-tts", "pcm")]
    auth = {r.headers.get("authorization") for r in speech_server.requests}
    assert auth == {f"Bearer {speech_server.api_key}"}

    # the chat server: one streamed completion holding the transcript, nothing else
    chat_channels = {f.channel for f in chat.frames}
    assert chat_channels == {"/v1/chat/completions"}, chat_channels
    (request,) = [f.payload for f in chat.frames_of("in", "/v1/chat/completions")]
    assert request["messages"][-1] == {"role": "user", "content": "what is the weather like"}
    deltas = "".join(
        f.payload["choices"][0]["delta"].get("content") or ""
        for f in chat.frames_of("out", "/v1/chat/completions")
        if isinstance(f.payload, dict) and f.payload.get("choices"))
    assert deltas == "It is sunny. Take a hat."
    assert {r.headers.get("authorization") for r in chat.requests} == {f"Bearer {chat.api_key}"}

    assert loud_ms(played(alsa_files)) > 1400  # both sentences' audio was played
    stages = run.context.stages.snapshot()
    assert {name: (s["endpoint"], s["healthy"]) for name, s in stages.items()} == {
        "stt": (speech_server.base_url, True), "llm": (chat.base_url, True),
        "tts": (speech_server.base_url, True)}


def test_a_dead_speech_server_costs_only_its_stage_the_sentence_is_spoken_locally(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    speech_server: FakeOpenAIServer,
) -> None:
    chat = fake_openai
    speech_server.script.transcript = "what time is it"
    speech_server.script.fail_http("/v1/audio/speech", 503, times=100)
    chat.script.add_chat_reply(ChatReply(text="It is ten thirty in the morning."))
    pcm = concat(silence(600), flite("what time is it"), silence(8000)).data
    run = ModeHub(tmp_path, chat, stages_yaml(tmp_path, speech_server, chat, ", max_retries: 0")
                  + "fallback: {enabled: true}\n")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 30)
        assert run.hub.wait_for_state("idle", 10)
    assert run.answers() == ["It is ten thirty in the morning."]  # the model's answer, not
    assert "ten thirty" in heard(played(alsa_files))                # the offline skills'
    stages = run.context.stages.snapshot()
    assert stages["tts"]["healthy"] is False and stages["tts"]["local_answers"] == 1
    assert "503" in (stages["tts"]["last_error"] or "")
    assert stages["stt"]["healthy"] is True and stages["llm"]["healthy"] is True
    assert run.context.link.online is not False  # the provider as a whole never went offline


def test_status_shows_each_stage_endpoint(tmp_path: Path, fake_openai: FakeOpenAIServer,
                                          speech_server: FakeOpenAIServer) -> None:
    config = load(write_config(tmp_path, fake_openai,
                               stages_yaml(tmp_path, speech_server, fake_openai)))
    hub = Hub(config)
    engine = hub.parts.engine()
    try:
        status = status_snapshot(hub)
    finally:
        engine.close()
    stages = status["provider"]["stages"]
    assert {name: s["endpoint"] for name, s in stages.items()} == {
        "stt": speech_server.base_url, "llm": fake_openai.base_url,
        "tts": speech_server.base_url}
    assert all(s["healthy"] is None and s["provider"] == "openai" for s in stages.values())
