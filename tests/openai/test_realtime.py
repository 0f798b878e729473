"""The Realtime session end to end against the fake server, through websocket-client.

Every test's frames (both directions) are validated against the SDK's models by
the ``server`` fixture; these tests check the conversation behaves.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient, OpenAIRealtimeSession
from drivers.openai.realtime_wire import SessionSettings
from speech_api.audio import AudioChunk
from speech_api.errors import APIError
from speech_api.events import (
    AudioDelta,
    FunctionCall,
    InputTranscript,
    ProviderError,
    RealtimeSessionConfig,
    ResponseDone,
    ResponseStarted,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TurnDetection,
)
from tests.fakes.openai_script import Reply, ToolCall, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.openai.helpers import send_all, utterance, wait_for

TOOLS = (
    {
        "type": "function",
        "name": "get_time",
        "description": "The current time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
    },
)


def open_session(config: OpenAIConfig, **kwargs: object) -> OpenAIRealtimeSession:
    session = OpenAIRealtimeClient(config).open_speech_to_speech(
        system_prompt="Be brief.",
        **kwargs,  # type: ignore[arg-type]
    )
    session.initialize_session()
    ready, _ = wait_for(session, SessionReady)
    assert ready.reconnected is False
    return session


def test_server_vad_turn_gives_transcript_and_spoken_reply(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.transcript = "what time is it"
    server.script.add_reply(Reply(text="It is noon.", audio=tone_pcm(500)))
    session = open_session(config)
    try:
        send_all(session, utterance())
        done, events = wait_for(session, ResponseDone)
    finally:
        session.close()
    kinds = [type(e) for e in events]
    assert kinds.index(SpeechStarted) < kinds.index(SpeechStopped) < kinds.index(ResponseStarted)
    finals = [e for e in events if isinstance(e, InputTranscript) and e.is_final]
    partials = [e for e in events if isinstance(e, InputTranscript) and not e.is_final]
    assert [f.text for f in finals] == ["what time is it"]
    assert "".join(p.text for p in partials) == "what time is it"
    audio = b"".join(e.pcm for e in events if isinstance(e, AudioDelta))
    assert audio == tone_pcm(500)
    text = "".join(e.delta for e in events if isinstance(e, TranscriptDelta))
    assert text == "It is noon." == done.transcript
    assert done.status == "completed"
    update = server.frames_of("in", "realtime")[0].payload
    assert update["session"]["instructions"] == "Be brief."
    assert update["session"]["audio"]["output"]["voice"] == "marin"
    handshake = next(r for r in server.requests if r.method == "GET")
    assert handshake.path == "/v1/realtime?model=gpt-realtime"
    assert "Origin" not in handshake.headers and "OpenAI-Beta" not in handshake.headers


def test_whole_conversation_is_wire_exact(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    """connect, update, append, commit, response, barge-in truncate, cancel: all frames valid."""
    session = open_session(
        config, session_config=RealtimeSessionConfig(turn_detection=TurnDetection.NONE, tools=TOOLS)
    )
    try:
        send_all(session, utterance(300, 0))
        session.commit()
        session.create_response()
        wait_for(session, ResponseDone)
        server.script.add_reply(Reply(text="a long answer " * 5, audio=tone_pcm(3000), pace_s=0.05))
        send_all(session, utterance(300, 0))
        session.commit()
        session.create_response()
        first, _ = wait_for(session, AudioDelta)
        wait_for(session, AudioDelta)
        session.truncate(first.item_id, first.content_index, 150)
        session.cancel_response()
        done, _ = wait_for(session, ResponseDone)
        assert done.status == "cancelled"
        session.clear_input()
        assert server.wait_until(lambda: "input_audio_buffer.cleared" in server.types("out"))
    finally:
        session.close()
    sent = set(server.types("in"))
    assert {
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "response.create",
        "conversation.item.truncate",
        "response.cancel",
        "input_audio_buffer.clear",
    } <= sent
    received = server.types("out")
    assert "conversation.item.truncated" in received
    truncated = next(
        f.payload for f in server.frames_of("out") if f.type == "conversation.item.truncated"
    )
    assert truncated["audio_end_ms"] == 150
    tools = server.frames_of("in")[0].payload["session"]["tools"]
    assert tools[0]["name"] == "get_time" and tools[0]["type"] == "function"


def test_speaking_over_the_answer_cancels_it(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.add_reply(Reply(audio=tone_pcm(4000), pace_s=0.05))
    session = open_session(config)
    try:
        send_all(session, utterance())
        wait_for(session, AudioDelta)
        send_all(session, utterance(200, 0))  # the user talks over the answer
        done, events = wait_for(session, ResponseDone)
    finally:
        session.close()
    assert done.status == "cancelled"
    assert any(isinstance(e, SpeechStarted) for e in events)
    final = next(f.payload for f in server.frames_of("out") if f.type == "response.done")
    assert final["response"]["status_details"]["reason"] == "turn_detected"


def test_function_call_and_tool_result(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_reply(Reply(tool_call=ToolCall("get_time", '{"tz":"UTC"}', "call_1")))
    server.script.add_reply(Reply(text="It is noon in UTC."))
    session = open_session(config, session_config=RealtimeSessionConfig(tools=TOOLS))
    try:
        send_all(session, utterance())
        call, _ = wait_for(session, FunctionCall)
        assert (call.call_id, call.name, json.loads(call.arguments)) == (
            "call_1",
            "get_time",
            {"tz": "UTC"},
        )
        wait_for(session, ResponseDone)
        session.send_tool_result(call.call_id, '{"time":"12:00"}')
        done, _ = wait_for(session, ResponseDone)
    finally:
        session.close()
    assert done.transcript == "It is noon in UTC."
    create = next(f.payload for f in server.frames_of("in") if f.type == "conversation.item.create")
    assert create["item"] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"time":"12:00"}',
    }


def test_audio_at_other_rates_is_resampled_to_24k(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    session = open_session(
        config, session_config=RealtimeSessionConfig(turn_detection=TurnDetection.NONE)
    )
    try:
        stereo = AudioChunk.pcm(bytes(16000 * 2 * 2), 16000, channels=2)  # 1 s, 16 kHz stereo
        for piece in stereo.split(20):
            session.send_audio(piece)
        assert server.wait_until(
            lambda: (
                sum(
                    len(base64.b64decode(f.payload["audio"]))
                    for f in server.frames_of("in")
                    if f.type == "input_audio_buffer.append"
                )
                >= 47000
            )
        )
    finally:
        session.close()
    total = sum(
        len(base64.b64decode(f.payload["audio"]))
        for f in server.frames_of("in")
        if f.type == "input_audio_buffer.append"
    )
    assert 47000 <= total <= 48000  # ~1 s of 24 kHz mono PCM16 (resampler latency aside)


def test_too_short_commit_is_a_non_fatal_error(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    session = open_session(
        config, session_config=RealtimeSessionConfig(turn_detection=TurnDetection.NONE)
    )
    try:
        session.send_audio(AudioChunk.pcm(bytes(480), 24000))
        session.commit()
        error, _ = wait_for(session, ProviderError)
        assert error.code == "input_audio_buffer_commit_empty" and not error.fatal
        send_all(session, utterance(300, 0))
        session.commit()
        session.create_response()
        wait_for(session, ResponseDone)
    finally:
        session.close()


def test_transcription_session(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.transcript = "take a note"
    session = OpenAIRealtimeClient(config).open_transcription(
        "gpt-4o-mini-transcribe", session_config=RealtimeSessionConfig(language="en")
    )
    try:
        session.initialize_session()
        wait_for(session, SessionReady)
        send_all(session, utterance())
        final, events = wait_for(session, InputTranscript)
        while not final.is_final:
            final, more = wait_for(session, InputTranscript)
            events += more
        with pytest.raises(APIError, match="only possible in a speech-to-speech session"):
            session.create_response()
    finally:
        session.close()
    assert final.text == "take a note"
    assert any(isinstance(e, InputTranscript) and not e.is_final for e in events)
    handshake = next(r for r in server.requests if r.method == "GET")
    assert handshake.path == "/v1/realtime?intent=transcription"
    update = server.frames_of("in")[0].payload["session"]
    assert update["type"] == "transcription"
    assert update["audio"]["input"]["transcription"] == {
        "model": "gpt-4o-mini-transcribe",
        "language": "en",
    }
    assert not any(t.startswith("response.") for t in server.types("out"))


def test_seed_async_face(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    async def conversation() -> list[object]:
        session = await OpenAIRealtimeClient(config).connect_speech_to_speech(
            voice="cedar", system_prompt="hi"
        )
        try:
            await session.initialize_session()
            for chunk in utterance():
                await session.send_audio(chunk.data)  # bare 24 kHz PCM bytes, as in the seed
            seen: list[object] = []

            async def read() -> None:
                async for event in session.receive_events():
                    seen.append(event)
                    if isinstance(event, ResponseDone):
                        return

            await asyncio.wait_for(read(), 10)
            return seen
        finally:
            await session.close()

    events = asyncio.run(conversation())
    assert isinstance(events[0], SessionReady)
    assert isinstance(events[-1], ResponseDone)
    assert server.frames_of("in")[0].payload["session"]["audio"]["output"]["voice"] == "cedar"


def test_slow_consumer_loses_old_audio_not_control_events(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.add_reply(Reply(audio=tone_pcm(3000), chunk_ms=100))  # 30 deltas
    settings = SessionSettings(kind="realtime")
    session = OpenAIRealtimeSession(config, settings, max_queued_audio=5)
    session.connect()
    try:
        session.initialize_session()
        send_all(session, utterance())
        # Read nothing until the reader had to drop audio for lack of room.
        assert server.wait_until(lambda: session.dropped_audio_events == 25)
        events = []
        while (event := session.next_event(0.2)) is not None:
            events.append(event)
    finally:
        session.close()
    audio = [e for e in events if isinstance(e, AudioDelta)]
    assert len(audio) == 5 and session.dropped_audio_events == 25
    assert audio[-1].pcm == tone_pcm(3000)[-4800:]  # the newest audio was kept
    for kind in (SessionReady, SpeechStarted, SpeechStopped, ResponseStarted, ResponseDone):
        assert any(isinstance(e, kind) for e in events), kind


def test_seed_async_transcription_session(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.transcript = "async words"

    async def transcribe() -> list[InputTranscript]:
        session = await OpenAIRealtimeClient(config).connect_transcription("gpt-4o-transcribe")
        finals: list[InputTranscript] = []
        try:
            await session.initialize_session()
            for chunk in utterance():
                await session.send_audio(chunk)

            async def read() -> None:
                async for event in session.receive_events():
                    if isinstance(event, InputTranscript) and event.is_final:
                        finals.append(event)
                        return

            await asyncio.wait_for(read(), 10)
        finally:
            await session.close()
        return finals

    (final,) = asyncio.run(transcribe())
    assert final.text == "async words"
    assert server.frames_of("in")[0].payload["session"]["type"] == "transcription"
