"""Local mode: local STT -> offline skills -> local TTS, with no network at all.

The engine answers like an online provider would (``InputTranscript`` with what
it heard, then ``ResponseStarted``, ``AudioDelta`` pieces, ``ResponseDone``), so
the rest of the hub does not know it is offline. Work runs on one worker thread
in order: a turn's answer, a timer's ring, the fallback's notice. It is also the
hub's announcer: timers ring through :meth:`announce` in every mode.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from actors.engine import Emit
from actors.engines.speaker import (
    EarconRenderer,
    ReplyCancelledError,
    ReplyFactory,
    earcon_at,
    no_earcons,
)
from actors.engines.worker import WorkerEngine
from drivers.local.lazy_stt import LazySpeechToText
from drivers.local.skills import SkillRegistry
from speech_api import (
    AudioChunk,
    BlockingSpeechToTextClient,
    BlockingTextToSpeechClient,
    SpeechAPIError,
    join_chunks,
)
from speech_api.events import InputTranscript, SessionReady

log = logging.getLogger(__name__)

UNKNOWN_REQUEST = (  # every offline skill, so the answer to anything else is honest
    "Sorry, offline I can only tell the time and date, handle timers, change the volume, "
    "and mute the microphone."
)
NOT_HEARD = "Sorry, I did not catch that."


@dataclass(frozen=True, slots=True)
class _Turn:
    chunks: tuple[AudioChunk, ...]
    preface: str
    screened: bool = False  # answer only a request (the speech came without a trigger)


@dataclass(frozen=True, slots=True)
class _Announce:
    text: str
    earcon: str | None


class LocalEngine(WorkerEngine["_Turn | _Announce"]):
    """Offline conversation engine; ``skills`` is owned (and closed) by the caller."""

    thread_name = "local-engine"

    def __init__(
        self,
        stt: BlockingSpeechToTextClient,
        tts: BlockingTextToSpeechClient,
        skills: SkillRegistry,
        *,
        render_earcon: EarconRenderer = no_earcons,
        unknown_request: str = UNKNOWN_REQUEST,
    ) -> None:
        super().__init__()
        self.stt = stt
        self.tts = tts
        self.skills = skills
        self.render_earcon = render_earcon
        self.unknown_request = unknown_request
        self.replies = ReplyFactory("local")
        self.last_answer: str | None = None
        self.last_transcript: str | None = None
        self._turns = 0

    # --- ConversationEngine ---------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self.start_worker(emit)
        emit(SessionReady())

    def end_turn(self) -> None:
        self.answer_turn()

    def end_turn_screened(self) -> None:
        """End a turn that came without a trigger: answer it only if it asks a skill
        for something, else end it without a word (the room was talking)."""
        self.submit_turn(_Turn(self.take_turn(), "", screened=True))

    def answer_turn(self, preface: str = "") -> None:
        """Answer the audio sent since the last turn, saying ``preface`` first."""
        self.submit_turn(_Turn(self.take_turn(), preface))

    def answer_audio(self, chunks: Sequence[AudioChunk], preface: str = "", *,
                     turn: bool = False, screened: bool = False) -> None:
        """Answer this user audio (e.g. a turn the online provider failed to answer).
        ``turn``: it is the turn just committed, so :meth:`resume_turn` drops this answer
        if the user goes on speaking; ``screened``: answer it only if it is a request."""
        job = _Turn(tuple(chunks), preface, screened=screened)
        if turn:
            self.submit_turn(job)
        else:
            self.submit(job)

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        if cancel_response:
            self.replies.interrupt()

    def drop_answer(self) -> None:
        self.replies.interrupt()

    def tool_result(self, call_id: str, output: str) -> None:
        log.debug("local engine calls no tools; result for %s ignored", call_id)

    def announce(self, text: str, earcon: str | None = None) -> None:
        """Say ``text`` (after ``earcon``) as a reply of its own, after any answer in progress."""
        self.submit(_Announce(text, earcon))

    def prepare(self) -> None:
        """The provider faltered: get a standby recogniser loading before it is needed."""
        if isinstance(self.stt, LazySpeechToText):
            self.stt.preload()

    def close(self) -> None:
        self.replies.interrupt()
        self.retire_turns()
        abort = getattr(self.stt, "abort", None)
        if callable(abort):
            abort()  # a decode in another process: stop waiting for it
        self.stop_worker()
        if isinstance(self.stt, LazySpeechToText):
            self.stt.close()

    # --- the worker -----------------------------------------------------------------

    def handle(self, job: _Turn | _Announce) -> None:
        match job:
            case _Turn(chunks=chunks, preface=preface, screened=screened):
                self._answer(chunks, preface, screened)
            case _Announce(text=text, earcon=earcon):
                self.speak(text, earcon)

    def _answer(self, chunks: tuple[AudioChunk, ...], preface: str,
                screened: bool = False) -> None:
        self._turns += 1
        text = self._transcribe(chunks)
        if self.stale:
            return  # the user went on while this was decoded: the whole turn comes again
        self.last_transcript = text
        self.emit(InputTranscript(item_id=f"local-in-{self._turns}", text=text, is_final=True))
        if screened and (not text or self.skills.match(text) is None):
            log.info("speech without a trigger asked for nothing: not answered")
            self.replies.start(self.emit).done("not_a_request")
            return
        answer, earcon = self._skill_answer(text)
        self.speak(f"{preface} {answer}".strip(), earcon)

    def _skill_answer(self, text: str) -> tuple[str, str | None]:
        """What to say (and which earcon first) for a transcript."""
        if not text:
            return NOT_HEARD, None
        try:
            result = self.skills.handle_utterance(text)
        except Exception as exc:  # noqa: BLE001 - a failed skill still gets an answer
            # what was said stays out of the log (logging.conversation decides that)
            log.warning("a local skill failed: %s: %s", type(exc).__name__, exc)
            return f"Sorry, that did not work: {exc}", "error"
        if result is None:
            return self.unknown_request, None
        log.info("local skill %s answered", result.skill)
        return result.speech, result.earcon

    def _transcribe(self, chunks: tuple[AudioChunk, ...]) -> str:
        if not chunks:
            return ""
        try:
            return self.stt.transcribe_blocking(join_chunks(chunks)).strip()
        except SpeechAPIError as exc:
            log.warning("local speech-to-text failed: %s", exc)
            return ""

    def speak(self, text: str, earcon: str | None = None) -> None:
        """Synthesise ``text`` and emit it as one reply (runs on the caller's thread)."""
        reply = self.replies.start(self.emit)
        self.last_answer = text
        try:
            reply.text(text)
            first = True
            for chunk in self.tts.synthesize_stream_blocking(text):
                if first and earcon:
                    sound = earcon_at(self.render_earcon, earcon, chunk.sample_rate)
                    reply.audio([sound] if sound is not None else [])
                first = False
                reply.audio([chunk])
            reply.done()
        except ReplyCancelledError:
            reply.done("cancelled")
        except SpeechAPIError as exc:
            log.warning("local text-to-speech failed: %s", exc)
            reply.done("failed")
