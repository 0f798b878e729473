"""Per-stage health of chained mode, and the stage wrappers that keep it.

Each chained stage (``stt``, ``llm``, ``tts``) may run at its own endpoint: speech
on a home server, chat on Ollama, voice on OpenAI. :class:`StageHealth` records,
per stage, where it runs and whether its last request worked, for ``maigic
status``. The wrappers below report every request of their stage to it.

A dead home server should only cost its own stage: :class:`WatchedTextToSpeech`
speaks a sentence with the local voice when the stage's endpoint fails before
its first audio, and :class:`WatchedTranscriber` hears the turn with the local
recogniser when its endpoint fails. The chat model has no local twin that could
continue the conversation, so a failing ``llm`` stage fails the turn and the
engine-wide offline fallback (skills) takes over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from actors.engines.transcribers import OnPartial, TurnTranscriber
from speech_api import (
    AudioChunk,
    AudioFormat,
    BlockingSpeechToTextClient,
    BlockingTextToSpeechClient,
    SpeechAPIError,
    join_chunks,
)

log = logging.getLogger(__name__)

STAGES = ("stt", "llm", "tts")


class StageHealth:
    """Thread-safe: per stage its endpoint, healthy or not (None: untried), since, last error."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._stages: dict[str, dict[str, Any]] = {}

    def register(self, stage: str, provider: str, endpoint: str | None) -> None:
        with self._lock:
            self._stages[stage] = {"provider": provider, "endpoint": endpoint, "healthy": None,
                                   "since": self._clock(), "last_error": None, "errors": 0,
                                   "local_answers": 0}

    def ok(self, stage: str) -> None:
        self._set(stage, True, None)

    def failed(self, stage: str, error: str) -> None:
        self._set(stage, False, error)

    def answered_locally(self, stage: str) -> None:
        with self._lock:
            if stage in self._stages:
                self._stages[stage]["local_answers"] += 1

    def _set(self, stage: str, healthy: bool, error: str | None) -> None:
        with self._lock:
            record = self._stages.get(stage)
            if record is None:
                return
            if error is not None:
                record["last_error"] = error
                record["errors"] += 1
            if record["healthy"] is not healthy:
                record["healthy"] = healthy
                record["since"] = self._clock()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: dict(record) for name, record in self._stages.items()}


class WatchedTranscriber:
    """A stage's transcriber that reports to :class:`StageHealth`; ``local`` hears the turn
    when the stage's endpoint fails (None: the failure is the turn's)."""

    def __init__(self, inner: TurnTranscriber, health: StageHealth,
                 local: BlockingSpeechToTextClient | None = None, stage: str = "stt") -> None:
        self.inner = inner
        self.health = health
        self.local = local
        self.stage = stage

    def feed(self, chunk: AudioChunk) -> None:
        self.inner.feed(chunk)

    def transcribe(self, chunks: Sequence[AudioChunk], on_partial: OnPartial) -> str:
        try:
            text = self.inner.transcribe(chunks, on_partial)
        except SpeechAPIError as exc:
            self.health.failed(self.stage, str(exc))
            if self.local is None or not chunks:
                raise
            log.warning("%s stage failed (%s): this turn is heard locally", self.stage, exc)
            self.health.answered_locally(self.stage)
            return self.local.transcribe_blocking(join_chunks(chunks), None).strip()
        self.health.ok(self.stage)
        return text

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()


class WatchedTextToSpeech(BlockingTextToSpeechClient):
    """A stage's voice that reports to :class:`StageHealth`; ``local`` speaks a sentence
    whose synthesis failed before its first audio (None: the failure is the turn's)."""

    def __init__(self, inner: BlockingTextToSpeechClient, health: StageHealth,
                 local: BlockingTextToSpeechClient | None = None, stage: str = "tts") -> None:
        self.inner = inner
        self.health = health
        self.local = local
        self.stage = stage

    def synthesize_blocking(self, text: str, voice_id: str | None = None,
                            language: str | None = None,
                            audio_format: AudioFormat = AudioFormat.WAV) -> bytes:
        try:
            audio = self.inner.synthesize_blocking(text, voice_id, language, audio_format)
        except SpeechAPIError as exc:
            self.health.failed(self.stage, str(exc))
            raise
        self.health.ok(self.stage)
        return audio

    def synthesize_stream_blocking(self, text: str, voice_id: str | None = None,
                                   language: str | None = None) -> Iterator[AudioChunk]:
        started = False
        stream = self.inner.synthesize_stream_blocking(text, voice_id, language)
        try:
            for chunk in stream:
                started = True
                yield chunk
        except SpeechAPIError as exc:
            self.health.failed(self.stage, str(exc))
            if started or self.local is None:
                raise
            log.warning("%s stage failed (%s): this sentence is spoken locally", self.stage, exc)
            self.health.answered_locally(self.stage)
            yield from self.local.synthesize_stream_blocking(text, None, language)
            return
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        self.health.ok(self.stage)

    def available_voices(self) -> list[str]:
        return self.inner.available_voices()


class WatchedChat:
    """The chat stage reporting to :class:`StageHealth` (its failures stay the turn's)."""

    def __init__(self, inner: Any, health: StageHealth, stage: str = "llm") -> None:
        self.inner = inner
        self.health = health
        self.stage = stage

    def stream(self, messages: Sequence[dict[str, Any]],
               tools: Sequence[dict[str, Any]] | None = None) -> WatchedChatStream:
        return WatchedChatStream(self.inner.stream(messages, tools), self)


class WatchedChatStream:
    def __init__(self, inner: Any, watch: WatchedChat) -> None:
        self.inner = inner
        self.watch = watch

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self.inner
        except SpeechAPIError as exc:
            self.watch.health.failed(self.watch.stage, str(exc))
            raise
        self.watch.health.ok(self.watch.stage)

    def cancel(self) -> None:
        self.inner.cancel()
