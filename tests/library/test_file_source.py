"""The one file-as-microphone source: paced or not, nothing is lost on the way to a transcriber."""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import threading

import pytest

from drivers.local.stt import LocalSpeechToTextClient
from drivers.openai import OpenAIConfig, OpenAISpeechToTextClient
from speech_api import (
    AudioChunk,
    AudioError,
    FileAudioSource,
    RealtimeSessionConfig,
    TurnDetection,
    load_audio,
)
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import LIBRIVOX

SPEECH = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0920.wav"  # 6.5 s, one long sentence


async def finals(source: FileAudioSource) -> str:
    stt = LocalSpeechToTextClient()
    config = RealtimeSessionConfig(enable_partial_results=False)
    return " ".join([e.text async for e in stt.transcribe_realtime(source, config)])


def test_an_unpaced_file_is_transcribed_exactly_as_the_paced_one() -> None:
    # Before: chunks were stamped when released, so an unpaced file collapsed in time
    # and the recogniser lost most of it (87 % WER unpaced vs 38 % paced).
    unpaced = asyncio.run(finals(FileAudioSource(SPEECH, trailing_silence_s=1.0)))
    paced = asyncio.run(finals(FileAudioSource(SPEECH, realtime=True, trailing_silence_s=1.0)))
    assert unpaced == paced
    assert {"married", "amiable", "woman", "respectable"} <= set(unpaced.split()), unpaced


def test_openai_realtime_transcription_sends_every_sample_of_an_unpaced_file(
        server: FakeOpenAIServer) -> None:
    speech = load_audio(SPEECH)
    # Default link timings: the tests' fast-failing ones call the busy fake dead under load.
    stt = OpenAISpeechToTextClient(OpenAIConfig(api_key=server.api_key, base_url=server.base_url,
                                                max_retries=0))
    settings = RealtimeSessionConfig(enable_partial_results=False,
                                     turn_detection=TurnDetection.NONE)

    async def run() -> list[str]:
        return [e.text async for e in stt.transcribe_realtime(FileAudioSource(SPEECH), settings)]

    assert asyncio.run(run()) == ["hello world"]
    sent = sum(len(base64.b64decode(f.payload["audio"])) for f in server.frames_of("in", "realtime")
               if f.type == "input_audio_buffer.append")
    speech_24k = (speech.duration_ms or 0) / 1000 * 24000 * 2
    assert sent >= speech_24k - 2 * 24 * 20  # all of it (24 kHz), bar a resampler tail
    assert server.types("in")[-1] == "input_audio_buffer.commit"


def test_frames_are_stamped_on_the_audio_clock_and_silence_follows() -> None:
    audio = AudioChunk.pcm(bytes(16000 * 2), 16000)  # 1 s
    source = FileAudioSource(audio, frame_ms=20, trailing_silence_s=0.5)
    frames = [frame for _, frame in source.frames(start_ns=1_000)]
    assert len(frames) == 75 and all(f.frames == 320 for f in frames)
    stamps = [f.captured_at_ns for f in frames]
    assert all(b - a == 20_000_000 for a, b in itertools.pairwise(stamps)) and stamps[0] == 1_000


def test_endless_silence_stops_when_told() -> None:
    source = FileAudioSource(AudioChunk.pcm(bytes(640), 16000), trailing_silence_s=math.inf)
    stop = threading.Event()
    taken = []
    for frame in source.blocking(stop):
        taken.append(frame)
        if len(taken) == 500:
            stop.set()
    assert len(taken) == 500


def test_paced_frames_come_at_capture_pace() -> None:
    source = FileAudioSource(AudioChunk.pcm(bytes(16000), 16000), realtime=True)  # 0.5 s

    async def timed() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        _ = [f async for f in source]
        return loop.time() - start

    assert asyncio.run(timed()) >= 0.5


def test_a_missing_file_is_an_audio_error_naming_it() -> None:
    with pytest.raises(AudioError, match=r"nope\.wav"):
        FileAudioSource("/nonexistent/nope.wav")
