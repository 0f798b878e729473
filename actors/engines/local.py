"""Local mode: local STT -> offline skills -> local TTS, with no network at all.

The engine answers like an online provider would (``InputTranscript`` with what
it heard, then ``ResponseStarted``, ``AudioDelta`` pieces, ``ResponseDone``), so
the rest of the hub does not know it is offline. Work runs on one worker thread
in order: a turn's answer, a timer's ring, the fallback's notice. It is also the
hub's announcer: timers ring through :meth:`announce` in every mode.

Speculative decoding (``speculate_after_ms``): the turn ends after the endpoint's
silence, but the speech ended before it. Once the audio received has been quiet for
``speculate_after_ms``, the audio so far is decoded on the worker thread (one such
decode at a time) while the endpoint is still counting. At the commit that transcript
is used only if no speech came after it; if speech came back it is dropped and the
whole turn is decoded, as it is after a resumed turn (its audio comes back whole).
Fixed phrases (the offline refusal, "did not catch that") are synthesised once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
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
from drivers.local.pause import PauseDetector
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
# A speculative decode hears at least this much pause after the speech: pocketsphinx
# takes "minutes" followed by 70 ms of quiet for "minute"; by the commit the turn has
# 700 ms of it, and from ~370 ms on its transcripts were those of the whole turn.
SPECULATIVE_PAUSE_MS = 400.0
# A turn answered from its speculative decode is answered at its commit, before the user
# could go on after a long pause: a transcript no skill takes ("set a timer for") waits this
# long first, so a resumed turn (speech within ~200 ms of the commit, confirmed ~250 ms
# later) takes it back before an apology starts. A request a skill takes goes out at once.
UNMATCHED_GRACE_S = 0.5


@dataclass(slots=True, eq=False)
class _Guess:
    """A decode of the turn's audio up to a pause, made while the endpoint counts."""

    chunks: tuple[AudioChunk, ...]
    speech_frames: int  # the pause detector's count when taken: more later = speech came back
    padding: tuple[AudioChunk, ...] = ()  # more of the pause's own quiet (see _padding)
    text: str | None = None  # None: not decoded (cancelled, or the decode failed)
    cancelled: bool = False  # speech came back (set on the Session's thread)
    started: bool = False
    finished: bool = False


@dataclass(frozen=True, slots=True)
class _Speculate:
    guess: _Guess


@dataclass(frozen=True, slots=True)
class _Turn:
    chunks: tuple[AudioChunk, ...]
    preface: str
    screened: bool = False  # answer only a request (the speech came without a trigger)
    guess: _Guess | None = None  # a decode of the turn up to its pause, if still true


@dataclass(slots=True)
class SpeculationCounts:
    """What became of the speculative decodes (for logs, benchmarks and tests)."""

    decoded: int = 0  # decodes made during a pause
    used: int = 0  # turns answered from one
    discarded: int = 0  # dropped because speech came back


@dataclass(frozen=True, slots=True)
class _Announce:
    text: str
    earcon: str | None


class LocalEngine(WorkerEngine["_Turn | _Announce | _Speculate"]):
    """Offline conversation engine; ``skills`` is owned (and closed) by the caller.
    ``speculate_after_ms`` > 0: decode a turn during its endpoint silence (module doc)."""

    thread_name = "local-engine"

    def __init__(
        self,
        stt: BlockingSpeechToTextClient,
        tts: BlockingTextToSpeechClient,
        skills: SkillRegistry,
        *,
        render_earcon: EarconRenderer = no_earcons,
        unknown_request: str = UNKNOWN_REQUEST,
        speculate_after_ms: float = 0.0,
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
        self.speculate_after_ms = speculate_after_ms
        self._pause = PauseDetector(speculate_after_ms) if speculate_after_ms > 0 else None
        self._guess: _Guess | None = None  # the turn in progress's, while still true
        self._last_guess: _Guess | None = None  # the last one submitted (maybe cancelled)
        self.speculation = SpeculationCounts()
        self._went_on = threading.Event()  # set when the committed turn is taken back
        self._fixed_phrases = {unknown_request, NOT_HEARD}
        self._phrase_audio: dict[str, tuple[AudioChunk, ...]] = {}

    # --- ConversationEngine ---------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self.start_worker(emit)
        emit(SessionReady())

    def end_turn(self) -> None:
        self.answer_turn()

    def end_turn_screened(self) -> None:
        """End a turn that came without a trigger: answer it only if it asks a skill
        for something, else end it without a word (the room was talking)."""
        self.submit_turn(_Turn(self.take_turn(), "", screened=True, guess=self._take_guess()))

    def answer_turn(self, preface: str = "") -> None:
        """Answer the audio sent since the last turn, saying ``preface`` first."""
        self.submit_turn(_Turn(self.take_turn(), preface, guess=self._take_guess()))

    def send_audio(self, chunk: AudioChunk) -> None:
        super().send_audio(chunk)
        pause = self._pause
        if pause is None:
            return
        pause.feed(chunk)
        guess = self._guess
        if guess is not None and pause.speech_frames != guess.speech_frames:
            guess.cancelled = True  # speech came back: that decode is not the turn's
            self.speculation.discarded += 1
            self._guess = guess = None
        last = self._last_guess
        busy = last is not None and last.started and not last.finished  # one at a time
        if guess is None and pause.paused and not busy:
            self._guess = self._last_guess = _Guess(
                self.turn.snapshot(), pause.speech_frames,
                _padding(chunk, SPECULATIVE_PAUSE_MS - pause.after_ms))
            self.submit(_Speculate(self._guess))

    def cancel_turn(self) -> None:
        super().cancel_turn()
        self._drop_guess()

    def resume_turn(self) -> bool:
        self._went_on.set()
        return super().resume_turn()

    def _take_guess(self) -> _Guess | None:
        """The committed turn's speculative decode (None: none, or speech came after it);
        the next turn starts from nothing."""
        guess, self._guess = self._guess, None
        self._went_on.clear()
        if self._pause is not None:
            self._pause.reset()
        return guess

    def _drop_guess(self) -> None:
        guess = self._take_guess()
        if guess is not None:
            guess.cancelled = True

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
        self._drop_guess()
        self._went_on.set()
        self.retire_turns()
        abort = getattr(self.stt, "abort", None)
        if callable(abort):
            abort()  # a decode in another process: stop waiting for it
        self.stop_worker()
        if isinstance(self.stt, LazySpeechToText):
            self.stt.close()

    # --- the worker -----------------------------------------------------------------

    def handle(self, job: _Turn | _Announce | _Speculate) -> None:
        match job:
            case _Turn(chunks=chunks, preface=preface, screened=screened, guess=guess):
                self._answer(chunks, preface, screened, guess)
            case _Announce(text=text, earcon=earcon):
                self.speak(text, earcon)
            case _Speculate(guess=guess):
                self._speculate(guess)

    def _speculate(self, guess: _Guess) -> None:
        if guess.cancelled:
            guess.finished = True
            return  # speech came back before it started: a later pause decodes again
        guess.started = True
        started = time.monotonic()
        try:
            audio = join_chunks(guess.chunks + guess.padding)
            guess.text = self.stt.transcribe_blocking(audio).strip()
            self.speculation.decoded += 1
            log.info("speculative decode of %d chunks: %.0f ms", len(guess.chunks),
                     (time.monotonic() - started) * 1000)
        except SpeechAPIError as exc:
            log.debug("speculative decode failed (the turn is decoded at its end): %s", exc)
        finally:
            guess.finished = True

    def _heard(self, chunks: tuple[AudioChunk, ...],
               guess: _Guess | None) -> tuple[str, bool]:
        """The turn's transcript, and whether it is the speculative one (used if it covers
        all the turn's speech: none came after it, and the turn begins with its audio)."""
        if guess is not None and guess.text is not None and not guess.cancelled and \
                len(guess.chunks) <= len(chunks) and \
                all(a is b for a, b in zip(guess.chunks, chunks, strict=False)):
            self.speculation.used += 1
            log.debug("turn answered from its speculative decode")
            return guess.text, True
        return self._transcribe(chunks), False

    def _answer(self, chunks: tuple[AudioChunk, ...], preface: str,
                screened: bool = False, guess: _Guess | None = None) -> None:
        self._turns += 1
        text, early = self._heard(chunks, guess)
        if early and not screened and (not text or self.skills.match(text) is None):
            self._went_on.wait(UNMATCHED_GRACE_S)  # "set a timer for" ... "ten minutes"
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
            for chunk in self._speech(text):
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

    def _speech(self, text: str) -> Iterator[AudioChunk]:
        """``text``'s audio, sentence by sentence as synthesised; a fixed phrase's from
        memory after its first time (the refusal is the same every time)."""
        if text not in self._fixed_phrases:
            return self.tts.synthesize_stream_blocking(text)
        audio = self._phrase_audio.get(text)
        if audio is None:
            audio = self._phrase_audio[text] = tuple(self.tts.synthesize_stream_blocking(text))
        return iter(audio)


def _padding(quiet: AudioChunk, ms: float) -> tuple[AudioChunk, ...]:
    """``ms`` more of the pause: copies of its last (quiet) chunk."""
    each = quiet.duration_ms or 0.0
    return (quiet,) * math.ceil(ms / each) if each > 0 and ms > 0 else ()
