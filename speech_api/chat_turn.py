"""One answer read aloud: a chat model's streamed answer, sentence by sentence, through TTS.

The single implementation of the chat -> text-to-speech loop. The library's
chained and hybrid agents run it in a worker thread (asyncio, via the bridge)
and the hub's chained engine on its own worker thread; each maps the events onto
its own output. It is blocking code, as the providers are:

- the answer streams in; each sentence is synthesised as soon as it is complete,
  so the first words play while the model is still writing;
- tool calls run (:class:`~speech_api.chat.ToolRunner`) and the model goes on
  with their results, at most ``max_tool_rounds`` times;
- :meth:`ChatTurn.cancel` (barge-in, any thread) closes the chat stream at once
  and the synthesis at its next chunk; the turn then ends;
- the history keeps the user's words, the tool exchange and only the sentences
  whose audio all went out (what the user may have heard).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from speech_api.audio import AudioChunk
from speech_api.chat import (
    ChatAnswer,
    ChatModel,
    Message,
    TextDelta,
    ToolCallRequest,
    ToolRunner,
    tool_exchange,
)
from speech_api.history import ConversationHistory
from speech_api.sentences import SentenceStream

Speak = Callable[[str], Iterator[AudioChunk]]  # one sentence -> its PCM, chunk by chunk


@dataclass(frozen=True, slots=True)
class AnswerText:
    """A piece of the answer as the model writes it (before it is spoken)."""

    text: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """A complete sentence, about to be synthesised: its audio follows."""

    text: str


@dataclass(frozen=True, slots=True)
class SentenceAudio:
    """Synthesised audio of the sentence last announced."""

    chunk: AudioChunk


@dataclass(frozen=True, slots=True)
class SentenceSpoken:
    """All of the sentence's audio went out: it counts as said."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCalled:
    """The model asked for a tool; its result follows."""

    call: ToolCallRequest


@dataclass(frozen=True, slots=True)
class ToolAnswered:
    call: ToolCallRequest
    output: str


@dataclass(frozen=True, slots=True)
class TurnDone:
    """The last event of a turn that was not abandoned: ``completed`` or ``cancelled``."""

    status: str
    spoken: tuple[str, ...]

    @property
    def transcript(self) -> str:
        return " ".join(self.spoken)


TurnEvent = AnswerText | Sentence | SentenceAudio | SentenceSpoken | ToolCalled | ToolAnswered \
    | TurnDone


class ChatTurn:
    """One user utterance answered aloud; make one per turn.

    ``cancelled``: an extra cancellation test the owner keeps (the hub's reply
    generation); :meth:`cancel` is the direct way. Provider failures raise
    (``SpeechAPIError``) out of :meth:`run`; the history is updated either way.
    """

    def __init__(
        self,
        chat: ChatModel,
        speak: Speak,
        history: ConversationHistory,
        *,
        tools: ToolRunner | None = None,
        instructions: str | None = None,
        max_tool_rounds: int = 3,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.chat = chat
        self.speak = speak
        self.history = history
        self.tools = tools
        self.instructions = instructions
        self.max_tool_rounds = max_tool_rounds
        self._cancelled_outside = cancelled
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._answer: ChatAnswer | None = None
        self.spoken: list[str] = []

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set() or (
            self._cancelled_outside is not None and self._cancelled_outside())

    def cancel(self) -> None:
        """Barge-in, from any thread: the chat stream stops now, synthesis at its next chunk."""
        self._cancel.set()
        with self._lock:
            answer = self._answer
        if answer is not None:
            answer.cancel()

    def run(self, text: str) -> Generator[TurnEvent, None, None]:
        """Answer ``text``: the events in order, :class:`TurnDone` last. Closing the
        iterator early ends the turn at once (its history is still kept)."""
        current: list[Message] = [{"role": "user", "content": text}]
        try:
            specs = self.tools.specs() if self.tools is not None else None
            for _ in range(self.max_tool_rounds + 1):
                messages = self.history.messages(self.instructions, current)
                calls = yield from self._answer_round(messages, specs)
                if not calls or self.cancelled:
                    break
                current += yield from self._run_tools(calls)
            yield self._done()
        finally:
            if self.spoken:
                current.append({"role": "assistant", "content": " ".join(self.spoken)})
                self.history.add_turn(current)

    def say(self, sentence: str) -> Generator[TurnEvent, None, None]:
        """Speak a fixed sentence (no chat model, nothing kept in the history)."""
        yield from self._say(sentence)
        yield self._done()

    def _done(self) -> TurnDone:
        return TurnDone("cancelled" if self.cancelled else "completed", tuple(self.spoken))

    def _answer_round(self, messages: list[Message], specs: list[dict[str, Any]] | None,
                      ) -> Generator[TurnEvent, None, list[ToolCallRequest]]:
        answer = self.chat.stream(messages, specs)
        with self._lock:
            self._answer = answer
        sentences = SentenceStream()
        calls: list[ToolCallRequest] = []
        try:
            if self.cancelled:
                return []  # interrupted before the stream was registered
            for event in answer:
                if isinstance(event, TextDelta):
                    yield AnswerText(event.text)
                    for sentence in sentences.feed(event.text):
                        yield from self._say(sentence)
                elif isinstance(event, ToolCallRequest):
                    calls.append(event)
                if self.cancelled:
                    return []
            for sentence in sentences.flush():
                yield from self._say(sentence)
        finally:
            with self._lock:
                self._answer = None
            answer.cancel()
        return [] if self.cancelled else calls

    def _say(self, sentence: str) -> Iterator[TurnEvent]:
        if self.cancelled:
            return
        yield Sentence(sentence)
        audio = self.speak(sentence)
        try:
            for chunk in audio:
                if self.cancelled:
                    return
                yield SentenceAudio(chunk)
        finally:
            close = getattr(audio, "close", None)
            if callable(close):
                close()  # a generator: ends the synthesis (e.g. closes its HTTP stream)
        self.spoken.append(sentence)  # every chunk went out (a cancel returned above)
        yield SentenceSpoken(sentence)

    def _run_tools(self, calls: list[ToolCallRequest],
                   ) -> Generator[TurnEvent, None, list[Message]]:
        runner = self.tools or ToolRunner(None)  # offered none, yet called: an error result
        outputs = []
        for call in calls:
            yield ToolCalled(call)
            output = runner.run(call.name, call.arguments)
            yield ToolAnswered(call, output)
            outputs.append(output)
        return tool_exchange(calls, outputs)
