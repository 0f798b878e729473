"""OpenAISpeechToTextClient against the fake server through the real openai SDK."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import socket
import time
from pathlib import Path
from typing import cast

import pytest
import soundfile

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import OpenAITranscriptionError
from drivers.openai.stt import OpenAISpeechToTextClient
from speech_api import FileAudioSource, collect
from speech_api.audio import AudioChunk, AudioFormat, decode_audio, load_audio
from speech_api.errors import APIError, TranscriptionError
from speech_api.events import RealtimeSessionConfig, TurnDetection
from tests.fakes.openai_server import FakeOpenAIServer
from tests.openai.helpers import utterance

SPEECH = Path(
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
)


@pytest.fixture(scope="module")
def speech() -> AudioChunk:
    return load_audio(SPEECH)


def uploads(server: FakeOpenAIServer) -> list[dict[str, object]]:
    return [r.body for r in server.requests if r.path == "/v1/audio/transcriptions"]


def uploaded_file(server: FakeOpenAIServer) -> tuple[str, bytes]:
    name, data = cast("tuple[str, bytes]", uploads(server)[0]["file"])
    return name, data


def test_batch_uploads_wav_with_model_language_prompt(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    server.script.transcript = "the family of dashwood"
    client = OpenAISpeechToTextClient(config, model="gpt-4o-mini-transcribe")
    assert (
        client.transcribe_blocking(speech, language="en", prompt="Austen")
        == "the family of dashwood"
    )
    (form,) = uploads(server)
    filename, data = uploaded_file(server)
    assert (form["model"], form["language"], form["prompt"]) == (
        "gpt-4o-mini-transcribe",
        "en",
        "Austen",
    )
    assert filename.endswith(".wav")
    sent = decode_audio(data, AudioFormat.WAV)
    assert (sent.data, sent.sample_rate) == (speech.data, speech.sample_rate)


@pytest.mark.parametrize(
    ("suffix", "fmt", "subtype"),
    [("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS"), ("mp3", "MP3", "MPEG_LAYER_III")],
)
def test_encoded_files_are_uploaded_as_they_are(
    server: FakeOpenAIServer,
    config: OpenAIConfig,
    speech: AudioChunk,
    tmp_path: Path,
    suffix: str,
    fmt: str,
    subtype: str,
) -> None:
    path = tmp_path / f"speech.{suffix}"
    soundfile.write(path, speech.to_numpy(), speech.sample_rate, format=fmt, subtype=subtype)
    encoded = AudioChunk(data=path.read_bytes(), format=AudioFormat(suffix))
    assert OpenAISpeechToTextClient(config).transcribe_blocking(encoded) == "hello world"
    filename, data = uploaded_file(server)
    assert filename == f"audio.{suffix}" and data == path.read_bytes()


def test_streaming_yields_growing_partials_before_the_final(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    server.script.transcript = "one two three four"
    server.script.stream_pace_s = 0.15
    arrivals: list[tuple[float, str]] = []
    for text in OpenAISpeechToTextClient(config).transcribe_stream_blocking(speech):
        arrivals.append((time.monotonic(), text))
    assert [t for _, t in arrivals] == ["one", "one two", "one two three", "one two three four"]
    assert arrivals[-1][0] - arrivals[0][0] > 0.3  # the first partial came well before the end
    assert uploads(server)[0]["stream"] == "true"
    sent_types = [f.type for f in server.frames_of("out", "/v1/audio/transcriptions")]
    assert sent_types[-1] == "transcript.text.done"


def test_whisper_cannot_stream_so_gives_one_result(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    client = OpenAISpeechToTextClient(config, model="whisper-1")
    assert list(client.transcribe_stream_blocking(speech)) == ["hello world"]
    assert "stream" not in uploads(server)[0]


def test_seed_async_face_batch_stream_realtime(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    client = OpenAISpeechToTextClient(config)

    async def run() -> tuple[str, list[str], list[str], list[str]]:
        text = await client.transcribe(speech, language="en")
        partials = await collect(client.transcribe_stream(speech))
        events = await collect(
            client.transcribe_realtime(FileAudioSource(SPEECH), RealtimeSessionConfig())
        )
        return (
            text,
            partials,
            [e.text for e in events if e.is_final],
            await client.get_supported_languages(),
        )

    text, partials, finals, languages = asyncio.run(run())
    assert text == "hello world" and partials[-1] == "hello world"
    assert finals == ["hello world"]
    assert "en" in languages and "de" in languages


def test_realtime_with_client_commits(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.transcript = "manual turn"
    cfg = RealtimeSessionConfig(turn_detection=TurnDetection.NONE, enable_partial_results=False)
    events = list(
        OpenAISpeechToTextClient(config).transcribe_realtime_blocking(
            iter(utterance(500, 0, rate=16000)), cfg
        )
    )
    assert [(e.text, e.is_final) for e in events] == [("manual turn", True)]
    assert "input_audio_buffer.commit" in server.types("in")
    update = server.frames_of("in")[0].payload["session"]
    assert update["audio"]["input"]["turn_detection"] is None


def test_401_is_not_retried_and_is_a_transcription_error(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    bad = dataclasses.replace(config, api_key="sk-not-the-right-key-42424242", max_retries=3)
    with pytest.raises(TranscriptionError) as info:
        OpenAISpeechToTextClient(bad).transcribe_blocking(speech)
    error = info.value
    assert isinstance(error, APIError)
    assert (error.status, error.code, error.retryable) == (401, "invalid_api_key", False)
    assert len(uploads(server)) == 1


def test_429_is_retried_with_backoff_then_reported(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    server.script.fail_http(
        "/v1/audio/transcriptions",
        429,
        times=10,
        code="rate_limit_exceeded",
        message="Rate limit reached",
        retry_after_ms=20,
    )
    patient = dataclasses.replace(config, max_retries=2)
    with pytest.raises(OpenAITranscriptionError) as info:
        OpenAISpeechToTextClient(patient).transcribe_blocking(speech)
    assert (info.value.status, info.value.code, info.value.retryable) == (
        429,
        "rate_limit_exceeded",
        True,
    )
    assert "Rate limit reached" in str(info.value)
    assert len(uploads(server)) == 3  # first try + 2 retries


def test_5xx_burst_is_ridden_out(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    server.script.fail_http("/v1/audio/transcriptions", 500, times=2, retry_after_ms=10)
    patient = dataclasses.replace(config, max_retries=2)
    assert OpenAISpeechToTextClient(patient).transcribe_blocking(speech) == "hello world"
    assert len(uploads(server)) == 3


def test_connection_refused(config: OpenAIConfig, speech: AudioChunk) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = dataclasses.replace(config, base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(OpenAITranscriptionError) as info:
        OpenAISpeechToTextClient(nowhere).transcribe_blocking(speech)
    assert info.value.code == "connection_error" and info.value.retryable


def test_server_that_never_answers_times_out(
    server: FakeOpenAIServer, config: OpenAIConfig, speech: AudioChunk
) -> None:
    server.script.never_answer = True
    impatient = dataclasses.replace(config, timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(OpenAITranscriptionError) as info:
        OpenAISpeechToTextClient(impatient).transcribe_blocking(speech)
    assert time.monotonic() - started < 5
    assert info.value.code == "timeout" and info.value.retryable


def test_empty_audio_is_refused_before_any_request(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    with pytest.raises(TranscriptionError, match="empty audio"):
        OpenAISpeechToTextClient(config).transcribe_blocking(AudioChunk.pcm(b"", 16000))
    assert uploads(server) == []


def test_uploaded_wav_is_a_real_wav(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    chunk = AudioChunk.pcm(bytes(16000), 8000)
    OpenAISpeechToTextClient(config).transcribe_blocking(chunk)
    _, data = uploaded_file(server)
    info = soundfile.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.frames) == (8000, 1, 8000)
