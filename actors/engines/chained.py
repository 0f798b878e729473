"""Chained mode: speech-to-text -> streaming chat -> text-to-speech, sentence by sentence.

Each turn runs on the engine's worker thread: the turn is transcribed, then the
library's chat-turn core (:class:`speech_api.chat_turn.ChatTurn`, the same loop
the library's chained and hybrid agents run) streams the chat model's answer and
synthesises every sentence as soon as it is complete; this engine only maps its
events onto a :class:`Reply`. The model may call the offline skills as tools.
Barge-in cancels all three stages: the turn closes the chat stream and the
synthesis generator, and a transcript still on its way is dropped. The
conversation history (bounded) is kept per engine, i.e. per session.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Generator, Iterator, Sequence
from functools import partial

from actors.engine import Emit
from actors.engines.link import ProviderLink, is_fatal
from actors.engines.local import NOT_HEARD
from actors.engines.speaker import Reply, ReplyCancelledError, ReplyFactory
from actors.engines.tools import log_tool_call
from actors.engines.transcribers import TurnTranscriber
from actors.engines.worker import WorkerEngine
from drivers.local.skills import SkillRegistry
from speech_api import AudioChunk, BlockingTextToSpeechClient, SpeechAPIError
from speech_api.chat import ChatModel, ToolRunner
from speech_api.chat_turn import ChatTurn, Sentence, SentenceAudio, SentenceSpoken, TurnEvent
from speech_api.errors import APIError
from speech_api.events import InputTranscript, ProviderError, ResponseDone, SessionReady
from speech_api.history import ConversationHistory

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
        self.tools = ToolRunner(skills, on_call=partial(log_tool_call,
                                                        log_conversation=log_conversation))
        self._lock = threading.Lock()
        self._turn: ChatTurn | None = None
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
                turn = self._turn
            if turn is not None:
                turn.cancel()

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
            turn = ChatTurn(self.chat, self._speak, self.history, tools=self.tools,
                            instructions=self.instructions, max_tool_rounds=MAX_TOOL_ROUNDS,
                            cancelled=lambda: reply.cancelled)
            with self._lock:
                self._turn = turn
            try:
                self._play(reply, turn.run(text) if text else turn.say(NOT_HEARD))
            finally:
                with self._lock:
                    self._turn = None
            reply.check()
            reply.done()
        except ReplyCancelledError:
            reply.done("cancelled")
            return
        except SpeechAPIError as exc:
            self._failed(reply, exc)
            return
        self.link.ready(proven=True)  # an answer is proof of health

    @property
    def tool_calls(self) -> list[tuple[str, str, str]]:
        """The latest tool calls: (tool, arguments, result)."""
        return self.tools.calls

    def _speak(self, sentence: str) -> Iterator[AudioChunk]:
        return self.tts.synthesize_stream_blocking(sentence, language=self.language)

    @staticmethod
    def _play(reply: Reply, events: Generator[TurnEvent, None, None]) -> None:
        """The turn's events as the reply's: one item per sentence, its audio, then its text."""
        with contextlib.closing(events):  # an interrupted reply ends the turn (and its stages)
            for event in events:
                if isinstance(event, Sentence):
                    reply.check()
                    reply.next_item()
                elif isinstance(event, SentenceAudio):
                    reply.audio((event.chunk,))
                elif isinstance(event, SentenceSpoken):
                    reply.text(event.text)

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
