"""Text in, spoken answer out: a chat model (with tools) read aloud sentence by sentence.

Shared by the chained and hybrid agents. The answer is :class:`ChatTurn` (the
library's one chat -> TTS loop, also the hub's) run in a worker thread; here its
events become the agent's events and its audio goes to the sink, sentence by
sentence as each is synthesised. Cancelling the task (barge-in) cancels the turn:
the chat stream closes at once, the synthesis at its next chunk, and only what was
spoken is kept in the history.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TypedDict, TypeVar, Unpack

from speech_api.agents.base import Emit, Stopwatch, VoiceAgent
from speech_api.audio import AudioChunk
from speech_api.bridge import iterate_from_thread, iterate_in_thread
from speech_api.chat import ChatModel, ToolBox, ToolRunner
from speech_api.chat_turn import (
    AnswerText,
    ChatTurn,
    Sentence,
    SentenceAudio,
    Speak,
    ToolAnswered,
    ToolCalled,
    TurnDone,
    TurnEvent,
)
from speech_api.clients import BlockingTextToSpeechClient, SpeechToTextClient, TextToSpeechClient
from speech_api.events import (
    AudioDelta,
    FunctionCall,
    ResponseDone,
    ResponseStarted,
    ToolResult,
    TranscriptDelta,
)
from speech_api.history import ConversationHistory
from speech_api.sinks import AudioSink

T = TypeVar("T")

SYNTHESIS_TIMEOUT_S = 30.0  # longest wait for one chunk of an async-only voice


class AnswerOptions(TypedDict, total=False):
    """How a chat voice agent answers: keywords of :class:`ChatResponder` and of the
    chained and hybrid agents (defaults: no tools, no instructions, a history of 10
    turns, the voice's default voice and language, 3 tool rounds)."""

    tools: ToolBox | None
    instructions: str | None
    history: ConversationHistory | None
    voice: str | None
    language: str | None
    max_tool_rounds: int


class ChatResponder:
    def __init__(self, chat: ChatModel, tts: TextToSpeechClient, sink: AudioSink,
                 **options: Unpack[AnswerOptions]) -> None:
        self.chat = chat
        self.tts = tts
        self.sink = sink
        self.tools = ToolRunner(options.get("tools"))
        self.instructions = options.get("instructions")
        history = options.get("history")
        self.history = history if history is not None else ConversationHistory(10)
        self.voice = options.get("voice")
        self.language = options.get("language")
        self.max_tool_rounds = options.get("max_tool_rounds", 3)

    async def respond(self, text: str, emit: Emit, watch: Stopwatch) -> None:
        """Answer ``text`` aloud; emits the answer's events and finally its timing."""
        rid = watch.response_id
        emit(ResponseStarted(response_id=rid))
        turn = ChatTurn(self.chat, self._speaker(asyncio.get_running_loop()), self.history,
                        tools=self.tools, instructions=self.instructions,
                        max_tool_rounds=self.max_tool_rounds)
        status = "cancelled"
        try:
            events: AsyncIterator[TurnEvent] = iterate_in_thread(lambda: turn.run(text))
            async with _closing(events):
                try:
                    item_id = ""
                    async for event in events:
                        if isinstance(event, SentenceAudio):
                            watch.audio()
                            await self.sink.play(event.chunk, item_id)
                            emit(_audio_event(event.chunk, rid, item_id))
                        elif isinstance(event, Sentence):
                            item_id = f"{rid}_{len(turn.spoken) + 1}"
                            emit(TranscriptDelta(response_id=rid, item_id=item_id,
                                                 delta=event.text))
                        elif isinstance(event, AnswerText):
                            watch.text()
                        elif isinstance(event, ToolCalled):
                            call = event.call
                            emit(FunctionCall(call_id=call.call_id, name=call.name,
                                              arguments=call.arguments, response_id=rid))
                        elif isinstance(event, ToolAnswered):
                            emit(ToolResult(call_id=event.call.call_id, name=event.call.name,
                                            output=event.output))
                        elif isinstance(event, TurnDone):
                            status = event.status
                finally:
                    turn.cancel()  # before the worker is joined: it may be blocked reading
        except Exception:
            status = "failed"
            raise
        finally:
            emit(ResponseDone(response_id=rid, status=status, transcript=" ".join(turn.spoken)))
            emit(watch.timing())

    def _speaker(self, loop: asyncio.AbstractEventLoop) -> Speak:
        """The voice as the turn's worker thread calls it (blocking)."""
        tts, voice, language = self.tts, self.voice, self.language
        if isinstance(tts, BlockingTextToSpeechClient):
            return lambda sentence: tts.synthesize_stream_blocking(sentence, voice, language)

        def speak(sentence: str) -> Iterator[AudioChunk]:
            return iterate_from_thread(tts.synthesize_stream(sentence, voice, language), loop,
                                       timeout=SYNTHESIS_TIMEOUT_S)

        return speak


class ChatVoiceAgent(VoiceAgent):
    """What the chained and hybrid agents share: a speech-to-text client and a responder."""

    def __init__(self, stt: SpeechToTextClient, chat: ChatModel, tts: TextToSpeechClient,
                 sink: AudioSink, *, barge_in: bool = True,
                 **options: Unpack[AnswerOptions]) -> None:
        super().__init__(sink)
        self.stt = stt
        self.language = options.get("language")
        self.barge_in = barge_in
        self.responder = ChatResponder(chat, tts, sink, **options)


def _audio_event(chunk: AudioChunk, response_id: str, item_id: str) -> AudioDelta:
    return AudioDelta(response_id=response_id, item_id=item_id, content_index=0,
                      pcm=chunk.data, sample_rate=chunk.sample_rate)


@contextlib.asynccontextmanager
async def _closing(iterator: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Close an async generator on the way out, also when cancelled (stops its worker)."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
