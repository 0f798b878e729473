"""OpenAITextToSpeechClient against the fake server through the real openai SDK."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import numpy as np
import pytest

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import OpenAISynthesisError
from drivers.openai.tts import OpenAITextToSpeechClient
from speech_api import collect
from speech_api.audio import AudioFormat, decode_audio, join_chunks
from speech_api.errors import APIError, SynthesisError
from tests.fakes.openai_script import tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer


def speech_requests(server: FakeOpenAIServer) -> list[dict[str, object]]:
    return [r.body for r in server.requests if r.path == "/v1/audio/speech"]


@pytest.mark.parametrize(
    "fmt", [AudioFormat.WAV, AudioFormat.MP3, AudioFormat.FLAC, AudioFormat.OGG]
)
def test_synthesize_returns_a_decodable_file(
    server: FakeOpenAIServer, config: OpenAIConfig, fmt: AudioFormat
) -> None:
    server.script.speech_pcm = tone_pcm(800)
    data = OpenAITextToSpeechClient(config).synthesize_blocking("Hello there.", audio_format=fmt)
    audio = decode_audio(data, fmt)
    assert audio.channels == 1
    assert audio.duration_ms is not None and 700 <= audio.duration_ms <= 900
    expected = {AudioFormat.OGG: "opus"}.get(fmt, fmt.value)
    assert speech_requests(server)[0]["response_format"] == expected


def test_voice_model_instructions_and_speed_are_passed_through(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    client = OpenAITextToSpeechClient(
        config, model="tts-1-hd", voice="coral", instructions="cheerful", speed=1.25
    )
    client.synthesize_blocking("Hi", voice_id="nova", audio_format=AudioFormat.WAV)
    client.synthesize_blocking("Hi again", audio_format=AudioFormat.WAV)
    first, second = speech_requests(server)
    assert first == {
        "model": "tts-1-hd",
        "input": "Hi",
        "voice": "nova",
        "response_format": "wav",
        "instructions": "cheerful",
        "speed": 1.25,
    }
    assert second["voice"] == "coral"


@pytest.mark.parametrize("stream_format", ["audio", "sse"])
def test_stream_yields_pcm_as_it_arrives(
    server: FakeOpenAIServer, config: OpenAIConfig, stream_format: str
) -> None:
    server.script.speech_pcm = tone_pcm(1000)
    server.script.stream_pace_s = 0.1
    client = OpenAITextToSpeechClient(config, stream_format=stream_format)  # type: ignore[arg-type]
    arrivals, chunks = [], []
    for chunk in client.synthesize_stream_blocking("Streaming speech."):
        arrivals.append(time.monotonic())
        chunks.append(chunk)
    assert len(chunks) >= 3 and arrivals[-1] - arrivals[0] > 0.15  # not all at the end
    assert all(c.sample_rate == 24000 and c.channels == 1 and c.is_pcm for c in chunks)
    assert join_chunks(chunks).data == tone_pcm(1000)
    body = speech_requests(server)[0]
    assert body["response_format"] == "pcm"
    assert body.get("stream_format") == ("sse" if stream_format == "sse" else None)


def test_seed_async_face(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    client = OpenAITextToSpeechClient(config)

    async def run() -> tuple[bytes, int, list[str]]:
        wav = await client.synthesize("One.", voice_id="alloy")
        chunks = await collect(client.synthesize_stream("Two."))
        return wav, sum(len(c.data) for c in chunks), await client.get_available_voices()

    wav, streamed_bytes, voices = asyncio.run(run())
    assert wav[:4] == b"RIFF" and streamed_bytes > 0
    assert {"marin", "cedar", "nova", "alloy"} <= set(voices)


def test_odd_sized_network_pieces_still_give_whole_samples(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    pcm = np.arange(-3000, 3000, dtype="<i2").tobytes()
    server.script.speech_pcm = pcm
    chunks = list(OpenAITextToSpeechClient(config).synthesize_stream_blocking("x"))
    assert all(len(c.data) % 2 == 0 for c in chunks)
    assert b"".join(c.data for c in chunks) == pcm


def test_5xx_is_retried_then_reported_as_synthesis_error(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.fail_http("/v1/audio/speech", 503, times=5, retry_after_ms=10)
    patient = dataclasses.replace(config, max_retries=1)
    with pytest.raises(SynthesisError) as info:
        OpenAITextToSpeechClient(patient).synthesize_blocking("Hi")
    assert isinstance(info.value, APIError)
    assert info.value.status == 503 and info.value.retryable
    assert len(speech_requests(server)) == 2


def test_streaming_error_is_raised_before_any_audio(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.fail_http("/v1/audio/speech", 400, code="invalid_value", message="bad voice")
    with pytest.raises(OpenAISynthesisError) as info:
        list(OpenAITextToSpeechClient(config).synthesize_stream_blocking("Hi"))
    assert (info.value.status, info.value.code, info.value.retryable) == (
        400,
        "invalid_value",
        False,
    )


def test_empty_text_is_refused(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    with pytest.raises(SynthesisError, match="empty text"):
        OpenAITextToSpeechClient(config).synthesize_blocking("   ")
    assert speech_requests(server) == []
