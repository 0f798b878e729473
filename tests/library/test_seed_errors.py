"""Every seed method raises its documented exception (docs/api.md) for a provider failure,
a bad input and a connect failure, against the fake server and a closed port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from drivers.openai import (
    OpenAIConfig,
    OpenAIRealtimeClient,
    OpenAISpeechToTextClient,
    OpenAITextToSpeechClient,
)
from speech_api import (
    APIError,
    AudioChunk,
    AudioError,
    AudioFormat,
    ChunkListSource,
    SynthesisError,
    TranscriptionError,
)
from tests.fakes.openai_server import FakeOpenAIServer

SPEECH = AudioChunk.pcm(bytes(16000), 16000)
GARBAGE_MP3 = AudioChunk(data=b"not an mp3 at all", format=AudioFormat.MP3)

Call = Callable[[OpenAIConfig, str], Awaitable[Any]]


async def _drain(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


def _stt(config: OpenAIConfig) -> OpenAISpeechToTextClient:
    return OpenAISpeechToTextClient(config)


def _tts(config: OpenAIConfig) -> OpenAITextToSpeechClient:
    return OpenAITextToSpeechClient(config)


# method -> (call with good or bad input, documented error for failures, error for bad input)
METHODS: dict[str, tuple[Call, type[Exception], type[Exception]]] = {
    "transcribe": (
        lambda c, kind: _stt(c).transcribe(GARBAGE_MP3 if kind == "bad" else SPEECH),
        TranscriptionError, TranscriptionError),
    "transcribe_stream": (
        lambda c, kind: _drain(_stt(c).transcribe_stream(
            AudioChunk.pcm(b"", 16000) if kind == "bad" else SPEECH)),
        TranscriptionError, TranscriptionError),
    "transcribe_realtime": (
        lambda c, kind: _drain(_stt(c).transcribe_realtime(
            ChunkListSource([GARBAGE_MP3 if kind == "bad" else SPEECH]))),
        TranscriptionError, AudioError),
    "synthesize": (
        lambda c, kind: _tts(c).synthesize("" if kind == "bad" else "Hello."),
        SynthesisError, SynthesisError),
    "synthesize_stream": (
        lambda c, kind: _drain(_tts(c).synthesize_stream("" if kind == "bad" else "Hello.")),
        SynthesisError, SynthesisError),
    "connect_speech_to_speech": (
        lambda c, kind: OpenAIRealtimeClient(c).connect_speech_to_speech(
            voice="" if kind == "bad" else "marin"),
        APIError, APIError),
    "connect_transcription": (
        lambda c, kind: OpenAIRealtimeClient(c).connect_transcription(
            model="" if kind == "bad" else "gpt-4o-transcribe"),
        APIError, APIError),
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _raised(call: Call, config: OpenAIConfig, kind: str) -> BaseException:
    async def run() -> None:
        result = await call(config, kind)
        close = getattr(result, "close", None)  # a realtime session that did connect
        if close is not None:
            await close()

    with pytest.raises(Exception) as info:
        asyncio.run(asyncio.wait_for(run(), 60))
    return info.value


@pytest.mark.parametrize("method", METHODS)
def test_provider_failure(method: str, server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.fail_http("/audio/transcriptions", 500, times=3)
    server.script.fail_http("/audio/speech", 500, times=3)
    server.script.reject_websocket(500, times=3)
    call, documented, _ = METHODS[method]
    error = _raised(call, config, "good")
    assert isinstance(error, documented), repr(error)
    assert isinstance(error, APIError) and error.status == 500 and error.retryable


@pytest.mark.parametrize("method", METHODS)
def test_bad_input(method: str, server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    call, _, documented = METHODS[method]
    error = _raised(call, config, "bad")
    assert isinstance(error, documented), repr(error)


@pytest.mark.parametrize("method", METHODS)
def test_connect_failure(method: str) -> None:
    config = OpenAIConfig(api_key="sk-test-not-a-real-key-0000",
                          base_url=f"http://127.0.0.1:{_closed_port()}/v1",
                          max_retries=0, timeout_s=5.0, connect_timeout_s=2.0)
    call, documented, _ = METHODS[method]
    error = _raised(call, config, "good")
    assert isinstance(error, documented), repr(error)
    assert isinstance(error, APIError) and error.retryable
