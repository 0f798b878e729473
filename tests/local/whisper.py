"""The packaged faster-whisper recogniser for tests, loaded once per process."""

from __future__ import annotations

from functools import cache

from drivers.local.whisper_stt import WhisperSpeechToTextClient
from speech_api import AudioChunk


@cache
def whisper() -> WhisperSpeechToTextClient:
    return WhisperSpeechToTextClient()


def whisper_hears(audio: AudioChunk) -> str:
    """What Whisper hears in ``audio`` (cased, punctuated, digits)."""
    return whisper().transcribe_blocking(audio)
