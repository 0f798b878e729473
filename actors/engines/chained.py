"""Chained mode: speech-to-text -> streaming chat -> text-to-speech, sentence by sentence.

Each turn runs on the engine's worker thread: the turn is transcribed, the chat
model's answer streams in, and every sentence is synthesised and emitted as soon
as it is complete, so the first words play while the model is still writing.
The model may call the offline skills as tools; they run here and the answer
continues with their results. Barge-in cancels all three stages: the chat stream
is closed, the synthesis generator closed, and a transcript still on its way is
dropped. The conversation history (bounded) is kept per engine, i.e. per session.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from actors.engine import Emit
from actors.engines.link import ProviderLink, is_fatal
from actors.engines.local import NOT_HEARD
from actors.engines.speaker import Reply, ReplyCancelledError, ReplyFactory
from actors.engines.tools import log_tool_call
from actors.engines.transcribers import TurnTranscriber
from actors.engines.worker import WorkerEngine
from drivers.local.skills import SkillRegistry
from speech_api import AudioChunk, BlockingTextToSpeechClient, SpeechAPIError
from speech_api.chat import (
    ChatAnswer,
    ChatDone,
    ChatEvent,
    ChatModel,
    TextDelta,
    ToolCallRequest,
    tool_exchange,
)
from speech_api.errors import APIError
from speech_api.events import InputTranscript, ProviderError, ResponseDone, SessionReady
from speech_api.history import ConversationHistory, Message
from speech_api.sentences import SentenceStream

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3


class ChainedEngine(WorkerEngine[tuple[AudioChunk, ...]]):
    thread_name = "chained-engine"

    def __init__(
        self,
        transcriber: TurnTranscriber,
        chat: ChatModel,
        tts: BlockingTextToSpeechClient,
        *,
        history: ConversationHistory,
        instructions: str | None = None,
        skills: SkillRegistry | None = None,
        language: str | None = None,
        link: ProviderLink | None = None,
        log_conversation: bool = False,
    ) -> None:
        super().__init__(transcriber)
        self.link = link or ProviderLink(name="chained")
        self.log_conversation = log_conversation
        self.stt = transcriber
        self.chat = chat
        self.tts = tts
        self.history = history
        self.instructions = instructions
        self.skills = skills
        self.language = language
        self.replies = ReplyFactory("chained")
        self.tool_calls: list[tuple[str, str, str]] = []  # (tool, arguments, result)
        self._lock = threading.Lock()
        self._stream: ChatAnswer | None = None
        self._turns = 0

    # --- ConversationEngine ---------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self.link.reopen()
        self.start_worker(emit)
        emit(SessionReady())  # connections are made per request

    def end_turn(self) -> None:
        self.submit_turn(self.take_turn())

    def drop_answer(self) -> None:
        self.interrupt(True, ())

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        if cancel_response:
            self.replies.interrupt()
            with self._lock:
                stream = self._stream
            if stream is not None:
                stream.cancel()

    def tool_result(self, call_id: str, output: str) -> None:
        log.debug("chained engine runs its tools itself; result for %s ignored", call_id)

    def close(self) -> None:
        self.interrupt(True, ())
        self.stop_worker()
        self.stt.close()

    # --- one turn -------------------------------------------------------------------

    def handle(self, chunks: tuple[AudioChunk, ...]) -> None:
        emit = self.emit
        self._turns += 1
        item_id = f"chained-in-{self._turns}"
        reply = self.replies.start(emit)
        if not self.link.online:
            self.link.attempt()  # each turn is a request: the link counts it as a try
        try:
            text = self.hear(self.stt, chunks, item_id)
            reply.check()
            emit(InputTranscript(item_id=item_id, text=text, is_final=True))
            if not text:
                self._say(reply, NOT_HEARD)
                reply.done()
            else:
                self._converse(reply, text)
        except ReplyCancelledError:
            reply.done("cancelled")
            return
        except SpeechAPIError as exc:
            self._failed(reply, exc)
            return
        self.link.ready(proven=True)  # an answer is proof of health

    def _converse(self, reply: Reply, text: str) -> None:
        current: list[Message] = [{"role": "user", "content": text}]
        tools = self.skills.tool_specs(nested=True) if self.skills is not None else None
        try:
            for _ in range(MAX_TOOL_ROUNDS + 1):
                calls = self._stream_answer(reply, self.history.messages(self.instructions,
                                                                         current), tools)
                if not calls:
                    break
                current += self._run_tools(calls)
            reply.done()
        finally:
            if reply.spoken:
                current.append({"role": "assistant", "content": " ".join(reply.spoken)})
                self.history.add_turn(current)

    def _stream_answer(self, reply: Reply, messages: list[Message],
                       tools: list[dict[str, Any]] | None) -> list[ToolCallRequest]:
        stream = self.chat.stream(messages, tools)
        with self._lock:
            self._stream = stream
        reply.check()  # interrupted before the stream was registered
        sentences = SentenceStream()
        calls: list[ToolCallRequest] = []
        try:
            event: ChatEvent
            for event in stream:
                match event:
                    case TextDelta(text=delta):
                        for sentence in sentences.feed(delta):
                            self._say(reply, sentence)
                    case ToolCallRequest():
                        calls.append(event)
                    case ChatDone():
                        pass
            reply.check()  # a cancelled stream just ends
            for sentence in sentences.flush():
                self._say(reply, sentence)
        finally:
            with self._lock:
                self._stream = None
            stream.cancel()
        return calls

    def _say(self, reply: Reply, sentence: str) -> None:
        reply.check()
        reply.next_item()
        reply.audio(self.tts.synthesize_stream_blocking(sentence, language=self.language))
        reply.text(sentence)

    def _run_tools(self, calls: list[ToolCallRequest]) -> list[Message]:
        assert self.skills is not None, "the model called a tool it was not offered"
        outputs = []
        for call in calls:
            output = self.skills.call_tool(call.name, call.arguments)
            log_tool_call(call.name, call.arguments, output, self.log_conversation)
            self.tool_calls.append((call.name, call.arguments, output))
            del self.tool_calls[:-20]
            outputs.append(output)
        return tool_exchange(calls, outputs)

    def _failed(self, reply: Reply, exc: SpeechAPIError) -> None:
        # never fatal: the next turn is a new request (the fallback decides about outages)
        code = exc.code if isinstance(exc, APIError) else None
        # one log line per link state change (the link logs it); a repeat is DEBUG
        if not self.link.failed(str(exc), fatal=is_fatal(exc)):
            log.debug("chained turn failed: %s", exc)
        self.emit(ProviderError(message=str(exc), code=code, fatal=False))
        if reply.started:
            reply.done("failed")
        else:
            self.emit(ResponseDone(response_id=reply.response_id, status="failed"))
