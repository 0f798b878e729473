"""The chained voice agent: speech-to-text, then a chat model with tools, then text-to-speech.

Any :class:`SpeechToTextClient` (batch ``transcribe``), any :class:`ChatModel`
and any :class:`TextToSpeechClient` can be mixed: OpenAI, local, or another
provider. Without a turn detector the whole source is one question (a file);
with one (``drivers.local.turns.VadTurnDetector`` for a microphone) every
utterance is a turn, and speech that starts while the agent answers is barge-in.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Protocol

from speech_api.agents.base import Emit, Stopwatch, new_id
from speech_api.agents.responder import ChatVoiceAgent
from speech_api.audio import AudioChunk, join_chunks
from speech_api.events import InputTranscript, SpeechStarted, SpeechStopped
from speech_api.sources import AudioSource

PREFIX_MS = 1000  # audio kept from before the detector confirmed speech


class TurnDetector(Protocol):
    """Finds where the user starts and stops speaking in a chunk stream."""

    def feed(self, chunk: AudioChunk) -> list[SpeechStarted | SpeechStopped]: ...

    def flush(self) -> list[SpeechStarted | SpeechStopped]: ...


class ChainedAgent(ChatVoiceAgent):
    """``ChainedAgent(stt, chat, tts, sink, *, turns=None, barge_in=True, **AnswerOptions)``
    (``tools``, ``instructions``, ``history``, ``voice``, ``language``, ``max_tool_rounds``)."""

    def __init__(self, *args: Any, turns: TurnDetector | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turns = turns

    async def _drive(self, source: AudioSource, emit: Emit) -> None:
        if self.turns is None:
            chunks = [chunk async for chunk in source]
            if chunks:
                await self._answer_turn(join_chunks(chunks), emit)
        else:
            await self._converse(source, self.turns, emit)
        await self._finish_answer()
        await self.sink.drain()

    async def _converse(self, source: AudioSource, turns: TurnDetector, emit: Emit) -> None:
        recent: deque[AudioChunk] = deque()
        utterance: list[AudioChunk] | None = None
        async for chunk in source:
            recent.append(chunk)
            while (recent[-1].captured_at_ns - recent[0].captured_at_ns) / 1e6 > PREFIX_MS:
                recent.popleft()
            if utterance is not None:
                utterance.append(chunk)
            for edge in turns.feed(chunk):
                emit(edge)
                if isinstance(edge, SpeechStarted):
                    if self.answering and self.barge_in:
                        await self.interrupt()
                    utterance = list(recent)
                elif utterance is not None:
                    audio, utterance = join_chunks(utterance), None
                    await self._finish_answer()
                    self._start_answer(self._answer_turn(audio, emit))
        for edge in turns.flush():
            emit(edge)
        if utterance:
            await self._finish_answer()
            await self._answer_turn(join_chunks(utterance), emit)

    async def _answer_turn(self, audio: AudioChunk, emit: Emit) -> None:
        watch = Stopwatch(new_id("chained"), time.monotonic_ns())
        text = await self.stt.transcribe(audio, self.language)
        watch.transcribed_ms = watch.now_ms()
        emit(InputTranscript(item_id=f"{watch.response_id}_in", text=text, is_final=True))
        if text.strip():
            await self.responder.respond(text, emit, watch)
