"""What every voice agent shares: the event stream, the answer task, barge-in, timing."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable

from speech_api.events import RealtimeEvent, TurnTiming
from speech_api.sinks import AudioSink
from speech_api.sources import AudioSource

Emit = Callable[[RealtimeEvent], None]
_DONE = object()
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids)}"


class Stopwatch:
    """Milliseconds since the end of the user's turn, for :class:`TurnTiming`."""

    def __init__(self, response_id: str, turn_ended_ns: int | None = None) -> None:
        self.response_id = response_id
        self.start_ns = time.monotonic_ns() if turn_ended_ns is None else turn_ended_ns
        self.transcribed_ms: float | None = None
        self.first_text_ms: float | None = None
        self.first_audio_ms: float | None = None

    def now_ms(self) -> float:
        return (time.monotonic_ns() - self.start_ns) / 1e6

    def text(self) -> None:
        if self.first_text_ms is None:
            self.first_text_ms = self.now_ms()

    def audio(self) -> None:
        if self.first_audio_ms is None:
            self.first_audio_ms = self.now_ms()

    def timing(self) -> TurnTiming:
        return TurnTiming(response_id=self.response_id, transcribed_ms=self.transcribed_ms,
                          first_text_ms=self.first_text_ms, first_audio_ms=self.first_audio_ms,
                          total_ms=self.now_ms())


class VoiceAgent(ABC):
    """A conversation over an audio source and a sink, as a stream of typed events.

    ``async for event in agent.run(source)`` runs until the source ends and the
    last answer has been played; leaving the loop early stops everything.
    ``interrupt()`` is barge-in from outside (a button): the answer stops at once.
    """

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self._answer: asyncio.Task[None] | None = None

    @abstractmethod
    async def _drive(self, source: AudioSource, emit: Emit) -> None:
        """Consume ``source``, answer, ``emit`` events; return when all is played."""

    async def run(self, source: AudioSource) -> AsyncIterator[RealtimeEvent]:
        queue: asyncio.Queue[object] = asyncio.Queue()

        async def drive() -> None:
            try:
                await self._drive(source, queue.put_nowait)
            finally:
                queue.put_nowait(_DONE)

        task = asyncio.create_task(drive())
        try:
            while (item := await queue.get()) is not _DONE:
                assert isinstance(item, RealtimeEvent)
                yield item
            await task  # raises what the agent raised
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._stop_answer()

    @property
    def answering(self) -> bool:
        return self._answer is not None and not self._answer.done()

    def _start_answer(self, answer: Awaitable[None]) -> None:
        async def wrapped() -> None:
            await answer

        self._answer = asyncio.create_task(wrapped())

    async def _finish_answer(self) -> None:
        """Wait for the answer in progress (its errors are raised here)."""
        if self._answer is not None:
            task, self._answer = self._answer, None
            await task

    async def _stop_answer(self) -> dict[str, int]:
        """Cancel the answer in progress and silence the sink; ms heard per item."""
        task, self._answer = self._answer, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return await self.sink.flush()

    async def interrupt(self) -> None:
        """Barge-in: stop the answer being spoken (and generated) now."""
        await self._stop_answer()
