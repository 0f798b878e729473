"""The ALSA microphone source and speaker sink, through real alsa-lib (file plugin, FIFO-paced)."""

from __future__ import annotations

import asyncio
import time

import pytest

from drivers.alsa_source import AlsaMicrophoneSource
from drivers.alsa_speaker import AlsaSpeaker
from drivers.local.stt import LocalSpeechToTextClient
from speech_api import AudioChunk, AudioError, RealtimeSessionConfig, load_audio
from tests.alsa.alsa_harness import (
    CAPTURE_PCM,
    PLAYBACK_PCM,
    AlsaFiles,
    FifoFeeder,
    noise_pcm,
    read_played_wav,
)
from tests.local.speech import LIBRIVOX

SPEECH = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill ..."


async def _collect(source: AlsaMicrophoneSource) -> list[AudioChunk]:
    return [chunk async for chunk in source]


def test_microphone_delivers_the_fed_speech_sample_exact_in_real_time(
        alsa_files: AlsaFiles) -> None:
    speech = load_audio(SPEECH)
    assert speech.sample_rate == 16000
    seconds = round(speech.duration_ms or 0) // 20 * 20 / 1000
    with FifoFeeder(alsa_files.infile, speech.data, 16000) as feeder:
        started = time.monotonic()
        chunks = asyncio.run(asyncio.wait_for(
            _collect(AlsaMicrophoneSource(CAPTURE_PCM, 16000, seconds=seconds)), 30))
        elapsed = time.monotonic() - started
    assert feeder.error is None
    pcm = b"".join(c.data for c in chunks)
    assert pcm == speech.data[: len(pcm)] and len(pcm) == int(seconds * 16000) * 2
    assert elapsed > seconds * 0.8  # paced by the FIFO, as a microphone is
    text = LocalSpeechToTextClient().transcribe_blocking(AudioChunk.pcm(pcm, 16000))
    assert {"not", "young", "man"} <= set(text.split()), text


def test_realtime_transcription_straight_from_the_microphone(alsa_files: AlsaFiles) -> None:
    speech = load_audio(SPEECH)
    silence = bytes(16000 * 2)  # the VAD needs the end of speech to close the utterance
    pcm = silence[:8000] + speech.data + silence

    async def transcribe() -> list[str]:
        source = AlsaMicrophoneSource(CAPTURE_PCM, 16000, seconds=len(pcm) / 32000)
        return [e.text async for e in LocalSpeechToTextClient().transcribe_realtime(
            source, RealtimeSessionConfig(enable_partial_results=False))]

    with FifoFeeder(alsa_files.infile, pcm, 16000):
        finals = asyncio.run(asyncio.wait_for(transcribe(), 60))
    # two of the three content words: the point is that the microphone's audio is heard
    assert len({"not", "young", "man"} & set(" ".join(finals).split())) >= 2, finals


def test_missing_microphone_is_an_audio_error_naming_it(alsa_files: AlsaFiles) -> None:
    with pytest.raises(AudioError, match="no_such_mic"):
        asyncio.run(_collect(AlsaMicrophoneSource("no_such_mic", seconds=1)))


def test_speaker_plays_everything_and_knows_the_played_position(alsa_files: AlsaFiles) -> None:
    pcm = noise_pcm(16000, 1.0, seed=3)

    async def play() -> tuple[int, int]:
        speaker = AlsaSpeaker(PLAYBACK_PCM, 16000)
        try:
            for piece in AudioChunk.pcm(pcm, 16000).split(100):
                await speaker.play(piece, "answer-1")
            assert await speaker.drain(10)
            return speaker.played_ms("answer-1"), speaker.played_ms("other")
        finally:
            await speaker.close()

    played, other = asyncio.run(play())
    assert (played, other) == (1000, 0)
    assert read_played_wav(alsa_files.outfile).data == pcm


def test_speaker_flush_stops_mid_answer_and_reports_what_was_heard(
        alsa_files: AlsaFiles) -> None:
    pcm = noise_pcm(16000, 3.0, seed=4)

    async def barge_in() -> tuple[dict[str, int], int]:
        speaker = AlsaSpeaker(PLAYBACK_PCM, 16000)
        try:
            await speaker.play(AudioChunk.pcm(pcm, 16000), "answer-1")
            deadline = time.monotonic() + 5
            while speaker.played_ms("answer-1") < 300 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)  # polling the position the sink reports
            heard = await speaker.flush()
            return heard, speaker.played_ms("answer-1")
        finally:
            await speaker.close()

    heard, position = asyncio.run(barge_in())
    assert 300 <= heard["answer-1"] < 3000
    assert position == heard["answer-1"]
    written = read_played_wav(alsa_files.outfile).data
    assert len(written) < len(pcm)  # the rest never reached the device


def test_missing_speaker_is_an_audio_error_naming_it(alsa_files: AlsaFiles) -> None:
    with pytest.raises(AudioError, match="no_such_speaker"):
        AlsaSpeaker("no_such_speaker")
