"""Small helpers shared by the OpenAI provider tests."""

from __future__ import annotations

import time
from typing import TypeVar

from speech_api.audio import AudioChunk
from speech_api.events import RealtimeEvent
from speech_api.realtime import RealtimeSpeechSession
from tests.fakes.openai_script import tone_pcm

E = TypeVar("E", bound=RealtimeEvent)


def utterance(speech_ms: int = 400, silence_ms: int = 700, rate: int = 24000) -> list[AudioChunk]:
    """A loud tone (the fake's VAD hears speech) then silence, as 20 ms chunks at ``rate``."""
    pcm24 = tone_pcm(speech_ms)
    if rate != 24000:
        import numpy as np

        t = np.arange(rate * speech_ms // 1000) / rate
        pcm24 = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes()
    silence = bytes(rate * silence_ms // 1000 * 2)
    return AudioChunk.pcm(pcm24 + silence, rate).split(20)


def send_all(session: RealtimeSpeechSession, chunks: list[AudioChunk]) -> None:
    for chunk in chunks:
        session.send_audio(chunk)


def wait_for(
    session: RealtimeSpeechSession, kind: type[E], timeout: float = 5.0
) -> tuple[E, list[RealtimeEvent]]:
    """Read events until one of ``kind`` arrives; returns it and everything read."""
    seen: list[RealtimeEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = session.next_event(0.05)
        if event is None:
            continue
        seen.append(event)
        if isinstance(event, kind):
            return event, seen
    raise AssertionError(
        f"no {kind.__name__} within {timeout} s; got {[type(e).__name__ for e in seen]}"
    )
