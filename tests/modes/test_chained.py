"""Chained mode through the whole hub: STT -> streaming chat -> TTS, sentence by sentence."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from speech_api import events as ev
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import loud_ms, played, running_hub
from tests.fakes.openai_script import ChatReply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub
from tests.modes.modetest import heard

CHAINED = "mode: chained\n"


def chat_requests(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


def test_two_turns_with_openai_stt_chat_and_tts_keep_the_history(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.transcript = "what is the weather like"
    fake_openai.script.add_chat_reply(ChatReply(text="It is sunny. Take a hat."))
    fake_openai.script.add_chat_reply(ChatReply(text="You are welcome."))
    pcm = concat(silence(600), flite("what is the weather like"), silence(4500),
                 flite("thank you"), silence(6000)).data
    run = ModeHub(tmp_path, fake_openai, CHAINED)
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(2, 30)
        assert run.hub.wait_for_state("idle", 10)
    assert run.heard() == ["what is the weather like"] * 2  # the fake hears this every time
    assert run.answers() == ["It is sunny. Take a hat.", "You are welcome."]
    paths = [r.path.rsplit("/", 2)[-1] for r in fake_openai.requests if r.method == "POST"]
    # one synthesis per sentence, each right after the chat stream produced it
    assert paths == ["transcriptions", "completions", "speech", "speech",
                     "transcriptions", "completions", "speech"]
    first, second = chat_requests(fake_openai)
    assert first["messages"][0]["role"] == "system"
    assert first["messages"][-1] == {"role": "user", "content": "what is the weather like"}
    assert second["messages"][1:] == [
        {"role": "user", "content": "what is the weather like"},
        {"role": "assistant", "content": "It is sunny. Take a hat."},
        {"role": "user", "content": "what is the weather like"},
    ]
    assert "set_timer" in [t["function"]["name"] for t in first["tools"]]
    assert loud_ms(played(alsa_files)) > 1000  # the synthesised sentences were played


def test_the_first_sentence_plays_before_the_second_one_exists(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.add_chat_reply(ChatReply(text="Sure. Done now.", pace_s=1.0))
    pcm = concat(silence(600), flite("can you help me"), silence(9000)).data
    run = ModeHub(tmp_path, fake_openai, CHAINED)
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 30)
        assert run.hub.wait_for_state("idle", 10)
    assert run.answers() == ["Sure. Done now."]
    second_sentence_sent = next(
        f.at for f in fake_openai.frames_of("out", "/v1/chat/completions")
        if isinstance(f.payload, dict) and f.payload.get("choices")
        and f.payload["choices"][0]["delta"].get("content") == " Done")
    reply_items = [item for item in run.written.at_ns if item.startswith("chained-")]
    assert reply_items, run.written.at_ns
    first_audio_written = run.written.at_ns[reply_items[0]] / 1e9
    assert first_audio_written < second_sentence_sent


def test_local_stt_and_tts_around_a_remote_chat_model(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.add_chat_reply(ChatReply(text="It is ten thirty in the morning."))
    pcm = concat(silence(600), flite("what time is it"), silence(8000)).data
    run = ModeHub(tmp_path, fake_openai,
                  CHAINED + "chained: {stt: {provider: local}, tts: {provider: local}}\n")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 30)
        assert run.hub.wait_for_state("idle", 10)
    assert run.heard() == ["what time is it"]
    (request,) = chat_requests(fake_openai)
    assert request["messages"][-1] == {"role": "user", "content": "what time is it"}
    paths = [r.path for r in fake_openai.requests if r.method == "POST"]
    assert paths == ["/v1/chat/completions"]  # speech in and out stayed on the hub
    assert "ten thirty" in heard(played(alsa_files))


def test_a_chat_tool_call_sets_a_timer_the_result_goes_back_and_it_rings(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="actors.engines.tools")
    call = ToolCall("set_timer", json.dumps({"duration_seconds": 2}))
    fake_openai.script.add_chat_reply(ChatReply(text="", tool_calls=(call,)))
    fake_openai.script.add_chat_reply(ChatReply(text="Your timer is set."))
    pcm = concat(silence(600), flite("set a timer for two seconds"), silence(10000)).data
    run = ModeHub(tmp_path, fake_openai, CHAINED)
    with running_hub(run.hub, alsa_files, pcm):
        run.events.wait(lambda _: "Your 2 seconds timer is done." in run.answers(), 25,
                        "the timer ringing")
        assert run.hub.wait_for_state("idle", 10)
    assert run.answers() == ["Your timer is set.", "Your 2 seconds timer is done."]
    first, second = chat_requests(fake_openai)
    assert first["messages"][-1]["role"] == "user"
    assert second["messages"][-2]["tool_calls"][0]["id"] == call.call_id
    result = second["messages"][-1]
    assert result["role"] == "tool" and result["tool_call_id"] == call.call_id
    assert json.loads(result["content"]) == {"result": "Timer set for 2 seconds."}
    # the hub's tool hook logged the call, without what was asked (logging.conversation off)
    logged = [r.getMessage() for r in caplog.records if r.name == "actors.engines.tools"]
    assert logged == ["tool set_timer called"]


def test_realtime_transcription_as_the_stt_hears_the_turns_live(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.transcript = "how far is the moon"
    fake_openai.script.add_chat_reply(ChatReply(text="Very far."))
    fake_openai.script.add_chat_reply(ChatReply(text="Still far."))
    pcm = concat(silence(600), flite("how far is the moon"), silence(5000),
                 flite("and the sun"), silence(5000)).data
    run = ModeHub(tmp_path, fake_openai, CHAINED + "chained: {stt: {mode: realtime}}\n")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(2, 30)
        assert run.hub.wait_for_state("idle", 10)
    assert run.answers() == ["Very far.", "Still far."]
    assert run.heard() == ["how far is the moon"] * 2
    sent = fake_openai.types("in")
    assert sent[0] == "session.update" and sent.count("session.update") == 1  # one session
    assert sent.count("input_audio_buffer.commit") == 2
    frames = fake_openai.frames_of("in", "realtime")
    first_commit = next(i for i, f in enumerate(frames) if f.type == "input_audio_buffer.commit")
    appends = [f.at for f in frames[first_commit:] if f.type == "input_audio_buffer.append"]
    assert appends[-1] - appends[0] > 0.5, "the second turn was not streamed while spoken"
    paths = [r.path for r in fake_openai.requests if r.method == "POST"]
    assert "/v1/audio/transcriptions" not in paths


def test_barge_in_cancels_the_chat_stream_and_the_synthesis(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.transcript = "count to six"
    long_answer = "One. Two. Three. Four. Five. Six."
    fake_openai.script.add_chat_reply(ChatReply(text=long_answer, pace_s=0.6))
    fake_openai.script.add_chat_reply(ChatReply(text="Okay."))
    pcm = concat(silence(600), flite("count to six"), silence(2600),
                 flite("stop it now please"), silence(6000)).data
    run = ModeHub(tmp_path, fake_openai, CHAINED)
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(2, 30)
        assert run.hub.wait_for_state("idle", 10)
    done = [e for e in run.events.of(ev.ResponseDone) if isinstance(e, ev.ResponseDone)]
    assert done[0].status == "cancelled" and done[1].transcript == "Okay."
    spoken = done[0].transcript
    assert spoken and long_answer.startswith(spoken) and spoken != long_answer
    speech_requests = [r for r in fake_openai.requests if r.path.endswith("/audio/speech")]
    # after the barge-in at most the sentence being synthesised was requested, then "Okay."
    assert len(speech_requests) <= len(spoken.split()) + 2 < 6 + 1
    second = chat_requests(fake_openai)[1]
    assert {"role": "assistant", "content": spoken} in second["messages"]  # what was said
