"""The Wyoming client engines against real wyoming-faster-whisper and wyoming-piper servers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.wyoming import WyomingSpeechToTextClient, WyomingTextToSpeechClient
from speech_api import AudioChunk, AudioFormat, collect, decode_audio, join_chunks
from speech_api.errors import APIError, SynthesisError
from speech_api.events import RealtimeSessionConfig
from tests.local.speech import concat, flite, goforward, silence, word_errors
from tests.wyoming.servers import WyomingServer, free_port


def test_whisper_hears_real_speech(whisper: WyomingServer) -> None:
    stt = WyomingSpeechToTextClient(whisper.uri, language="en")
    text = stt.transcribe_blocking(goforward())  # pocketsphinx-testdata: a real recording
    errors, _ = word_errors("go forward ten meters", text.lower().strip(".").replace(
        "10", "ten").replace("metres", "meters"))
    assert errors <= 1, text
    assert "en" in stt.supported_languages()


def test_piper_streams_its_audio_and_whisper_hears_it_back(
    whisper: WyomingServer, piper: WyomingServer,
) -> None:
    tts = WyomingTextToSpeechClient(piper.uri)
    chunks = list(tts.synthesize_stream_blocking("Set a timer for ten minutes, please."))
    assert len(chunks) > 3  # streamed in pieces, not one blob
    assert {(c.sample_rate, c.channels, c.bit_depth) for c in chunks} == {(22050, 1, 16)}
    speech = join_chunks(chunks)
    assert 1500 < (speech.duration_ms or 0) < 5000
    stt = WyomingSpeechToTextClient(whisper.uri, language="en")
    heard = stt.transcribe_blocking(speech).lower()
    assert "timer" in heard and ("ten minutes" in heard or "10 minutes" in heard), heard


def test_synthesize_returns_a_whole_file_and_the_async_face_works(piper: WyomingServer) -> None:
    import asyncio

    tts = WyomingTextToSpeechClient(piper.uri, voice="en_US-joe-medium")
    wav = tts.synthesize_blocking("Hello there.", audio_format=AudioFormat.WAV)
    decoded = decode_audio(wav, AudioFormat.WAV)
    assert decoded.sample_rate == 22050 and (decoded.duration_ms or 0) > 400
    chunks = asyncio.run(collect(tts.synthesize_stream("Good morning.")))
    assert sum(c.duration_ms or 0 for c in chunks) > 400
    assert "en_US-joe-medium" in tts.available_voices()


def test_audio_streamed_while_it_is_spoken_gives_one_final_transcript(
    whisper: WyomingServer,
) -> None:
    clip = concat(silence(300), flite("what is the weather like"), silence(300))
    sent: list[float] = []

    def live() -> Iterator[AudioChunk]:
        for frame in clip.split(20):  # as a microphone would deliver it
            sent.append(time.monotonic())
            yield frame

    stt = WyomingSpeechToTextClient(whisper.uri, language="en")
    events = list(stt.transcribe_realtime_blocking(live(), RealtimeSessionConfig(language="en")))
    assert len(sent) == len(clip.split(20))
    assert [e.is_final for e in events][-1] is True
    assert "weather" in events[-1].text.lower()


def test_an_unreachable_server_is_a_retryable_api_error_and_no_thread_is_left() -> None:
    stt = WyomingSpeechToTextClient(f"tcp://127.0.0.1:{free_port()}", connect_timeout_s=2)
    with pytest.raises(APIError) as caught:
        stt.transcribe_blocking(silence(500))
    assert caught.value.retryable and caught.value.provider == "wyoming"
    assert "127.0.0.1" in str(caught.value)
    # (the autouse leak check fails the test if the loop thread outlives its last call)


def test_an_unknown_voice_is_the_servers_error_named(piper: WyomingServer) -> None:
    tts = WyomingTextToSpeechClient(piper.uri, voice="xx_XX-nobody-low")
    with pytest.raises(SynthesisError, match="xx_XX-nobody-low"):
        tts.synthesize_blocking("Hello.")


def test_a_bad_address_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="tcp://host:port"):
        WyomingSpeechToTextClient("http://127.0.0.1:10300")
