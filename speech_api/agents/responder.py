"""Text in, spoken answer out: a chat model (with tools) read aloud sentence by sentence.

Shared by the chained and hybrid agents. The chat answer streams from its worker
thread; each sentence is synthesised and handed to the sink as soon as it is
complete, so the first words play while the model is still writing. Tool calls
run (in a thread) and the model continues with their results, at most
``max_tool_rounds`` times. Cancelling the task (barge-in) closes the chat stream
and the synthesis at once; only what was spoken is kept in the history.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from speech_api.agents.base import Emit, Stopwatch, VoiceAgent
from speech_api.audio import AudioChunk
from speech_api.bridge import iterate_in_thread, run_blocking
from speech_api.chat import (
    ChatDone,
    ChatEvent,
    ChatModel,
    Message,
    TextDelta,
    ToolBox,
    ToolCallRequest,
    tool_exchange,
)
from speech_api.clients import SpeechToTextClient, TextToSpeechClient
from speech_api.events import (
    AudioDelta,
    FunctionCall,
    ResponseDone,
    ResponseStarted,
    ToolResult,
    TranscriptDelta,
)
from speech_api.history import ConversationHistory
from speech_api.sentences import SentenceStream
from speech_api.sinks import AudioSink

T = TypeVar("T")


class ChatResponder:
    def __init__(
        self,
        chat: ChatModel,
        tts: TextToSpeechClient,
        sink: AudioSink,
        *,
        tools: ToolBox | None = None,
        instructions: str | None = None,
        history: ConversationHistory | None = None,
        voice: str | None = None,
        language: str | None = None,
        max_tool_rounds: int = 3,
    ) -> None:
        self.chat = chat
        self.tts = tts
        self.sink = sink
        self.tools = tools
        self.instructions = instructions
        self.history = history if history is not None else ConversationHistory(10)
        self.voice = voice
        self.language = language
        self.max_tool_rounds = max_tool_rounds

    async def respond(self, text: str, emit: Emit, watch: Stopwatch) -> None:
        """Answer ``text`` aloud; emits the answer's events and finally its timing."""
        rid = watch.response_id
        emit(ResponseStarted(response_id=rid))
        current: list[Message] = [{"role": "user", "content": text}]
        spoken: list[str] = []
        status = "cancelled"
        try:
            specs = self.tools.tool_specs(nested=True) if self.tools is not None else None
            for _ in range(self.max_tool_rounds + 1):
                messages = self.history.messages(self.instructions, current)
                calls = await self._speak_answer(messages, specs, emit, watch, spoken)
                if not calls:
                    break
                current += await self._run_tools(calls, emit, rid)
            status = "completed"
        except Exception:
            status = "failed"
            raise
        finally:
            if spoken:
                current.append({"role": "assistant", "content": " ".join(spoken)})
                self.history.add_turn(current)
            emit(ResponseDone(response_id=rid, status=status, transcript=" ".join(spoken)))
            emit(watch.timing())

    async def _speak_answer(self, messages: list[Message], specs: list[dict[str, Any]] | None,
                            emit: Emit, watch: Stopwatch,
                            spoken: list[str]) -> list[ToolCallRequest]:
        answer = self.chat.stream(messages, specs)
        sentences = SentenceStream()
        calls: list[ToolCallRequest] = []
        events: AsyncIterator[ChatEvent] = iterate_in_thread(lambda: iter(answer))
        async with _closing(events):
            try:
                async for event in events:
                    if isinstance(event, TextDelta):
                        watch.text()
                        for sentence in sentences.feed(event.text):
                            await self._say(sentence, emit, watch, spoken)
                    elif isinstance(event, ToolCallRequest):
                        calls.append(event)
                    elif isinstance(event, ChatDone):
                        pass
                for sentence in sentences.flush():
                    await self._say(sentence, emit, watch, spoken)
            finally:
                answer.cancel()  # before the worker is joined: it may be blocked reading
        return calls

    async def _say(self, sentence: str, emit: Emit, watch: Stopwatch, spoken: list[str]) -> None:
        item_id = f"{watch.response_id}_{len(spoken) + 1}"
        emit(TranscriptDelta(response_id=watch.response_id, item_id=item_id, delta=sentence))
        audio = self.tts.synthesize_stream(sentence, self.voice, self.language)
        async with _closing(audio):
            async for chunk in audio:
                watch.audio()
                await self.sink.play(chunk, item_id)
                emit(_audio_event(chunk, watch.response_id, item_id))
        spoken.append(sentence)

    async def _run_tools(self, calls: list[ToolCallRequest], emit: Emit,
                         response_id: str) -> list[Message]:
        toolbox = self.tools
        outputs: list[str] = []
        for call in calls:
            emit(FunctionCall(call_id=call.call_id, name=call.name, arguments=call.arguments,
                              response_id=response_id))
            if toolbox is None:
                output = f"error: no tool named {call.name!r}"
            else:
                output = await run_blocking(
                    lambda c=call: toolbox.call_tool(c.name, c.arguments))  # type: ignore[misc]
            emit(ToolResult(call_id=call.call_id, name=call.name, output=output))
            outputs.append(output)
        return tool_exchange(calls, outputs)


class ChatVoiceAgent(VoiceAgent):
    """What the chained and hybrid agents share: a speech-to-text client and a responder."""

    def __init__(
        self,
        stt: SpeechToTextClient,
        chat: ChatModel,
        tts: TextToSpeechClient,
        sink: AudioSink,
        *,
        tools: ToolBox | None = None,
        instructions: str | None = None,
        history: ConversationHistory | None = None,
        voice: str | None = None,
        language: str | None = None,
        barge_in: bool = True,
    ) -> None:
        super().__init__(sink)
        self.stt = stt
        self.language = language
        self.barge_in = barge_in
        self.responder = ChatResponder(chat, tts, sink, tools=tools, instructions=instructions,
                                       history=history, voice=voice, language=language)


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
