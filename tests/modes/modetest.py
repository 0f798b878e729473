"""Helpers for the mode tests: an event recorder, real local engines, speech in and out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache

from actors.engines.local import LocalEngine
from actors.engines.speaker import EarconRenderer, no_earcons
from drivers.local.skills import SkillContext, SkillRegistry
from drivers.local.stt import LocalSpeechToTextClient
from drivers.local.tts import LocalTextToSpeechClient
from speech_api import AudioChunk, join_chunks
from speech_api import events as ev
from tests.local.speech import concat, flite, silence

FIXED_NOW = datetime(2026, 11, 24, 10, 30)  # "It's 10:30 AM."


def fixed_clock() -> datetime:
    return FIXED_NOW


class Events:
    """Records what an engine emits (from any thread); waits for what a test expects."""

    def __init__(self) -> None:
        self.items: list[ev.RealtimeEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: ev.RealtimeEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait(self, predicate: Callable[[list[ev.RealtimeEvent]], bool], timeout: float,
             what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.items):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                         f"events: {[type(e).__name__ for e in self.items]}")
                self._cond.wait(left)

    def of(self, kind: type[ev.RealtimeEvent]) -> list[ev.RealtimeEvent]:
        with self._cond:
            return [e for e in self.items if isinstance(e, kind)]

    def done(self, count: int = 1) -> Callable[[list[ev.RealtimeEvent]], bool]:
        return lambda items: sum(isinstance(e, ev.ResponseDone) for e in items) >= count

    def reply_audio(self, response_id: str) -> AudioChunk:
        deltas = [e for e in self.of(ev.AudioDelta) if isinstance(e, ev.AudioDelta)
                  and e.response_id == response_id]
        return join_chunks(AudioChunk.pcm(d.pcm, d.sample_rate) for d in deltas)


@cache
def local_tts() -> LocalTextToSpeechClient:
    return LocalTextToSpeechClient(engine="flite", voice="kal16")


@cache
def grammar_stt() -> LocalSpeechToTextClient:
    with SkillRegistry() as skills:
        return LocalSpeechToTextClient(mode="grammar+free", grammar=skills.jsgf())


@cache
def free_stt() -> LocalSpeechToTextClient:
    return LocalSpeechToTextClient(mode="free")


def local_engine(skills: SkillRegistry,
                 render_earcon: EarconRenderer = no_earcons) -> LocalEngine:
    return LocalEngine(grammar_stt(), local_tts(), skills, render_earcon=render_earcon)


def skills_at_fixed_time() -> SkillRegistry:
    return SkillRegistry(SkillContext(now=fixed_clock))


def utterance(text: str) -> Iterator[AudioChunk]:
    """``text`` spoken by flite with a little silence around it, in 20 ms capture chunks."""
    clip = concat(silence(200), flite(text), silence(300))
    for piece in clip.split(20):
        yield AudioChunk.pcm(piece.data, piece.sample_rate)


def heard(audio: AudioChunk) -> str:
    """What the free-form offline recogniser hears in ``audio`` (for checking replies)."""
    return free_stt().transcribe_blocking(audio)
