"""What the engines that answer on one worker thread share.

The user audio of the turn in progress (bounded), an optional live transcriber
that hears it while it is spoken, a queue of jobs (turns, announcements) done in
order on one thread, and that thread's life: started with the engine, stopped
and joined by ``close``. A failing job is logged and the next one still runs.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Generic, TypeVar

from actors.engine import Emit
from actors.engines.transcribers import TurnTranscriber
from speech_api import AudioChunk, SpeechAPIError
from speech_api.events import InputTranscript

log = logging.getLogger(__name__)

MAX_TURN_MS = 120_000  # a longer turn keeps only its end
JOIN_TIMEOUT_S = 5.0
JobT = TypeVar("JobT")


class TurnAudio:
    """The user audio of the turn in progress, bounded to its last ``MAX_TURN_MS``."""

    def __init__(self) -> None:
        self._chunks: list[AudioChunk] = []
        self._ms = 0.0
        self._lock = threading.Lock()

    def add(self, chunk: AudioChunk) -> None:
        with self._lock:
            self._chunks.append(chunk)
            self._ms += chunk.duration_ms or 0.0
            while len(self._chunks) > 1 and self._ms > MAX_TURN_MS:
                self._ms -= self._chunks.pop(0).duration_ms or 0.0

    def take(self) -> tuple[AudioChunk, ...]:
        with self._lock:
            chunks, self._chunks, self._ms = tuple(self._chunks), [], 0.0
            return chunks

    def clear(self) -> None:
        self.take()

    def snapshot(self) -> tuple[AudioChunk, ...]:
        """The audio so far, left in place (the turn goes on)."""
        with self._lock:
            return tuple(self._chunks)

    def put_back(self, chunks: tuple[AudioChunk, ...]) -> None:
        """Put a committed turn's audio back in front (the user went on speaking)."""
        with self._lock:
            self._chunks[:0] = chunks
            self._ms += sum(chunk.duration_ms or 0.0 for chunk in chunks)

    def keep_last(self, ms: float) -> None:
        """Drop all but the last ``ms`` (the pre-roll before speech started)."""
        with self._lock:
            while len(self._chunks) > 1 and \
                    self._ms - (self._chunks[0].duration_ms or 0.0) >= ms:
                self._ms -= self._chunks.pop(0).duration_ms or 0.0


class WorkerEngine(Generic[JobT]):
    """Base of the local, chained and transcribe engines; subclasses implement ``handle``."""

    thread_name = "engine-worker"

    def __init__(self, transcriber: TurnTranscriber | None = None) -> None:
        self.turn = TurnAudio()
        self.transcriber = transcriber
        self._jobs: queue.Queue[tuple[int | None, JobT] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._emit: Emit | None = None
        self._committed: tuple[AudioChunk, ...] = ()  # the last turn, until the next begins
        self._generation = 0  # bumped when the user goes on: older turns' jobs are stale
        self._running: int | None = None  # the generation of the turn job being done

    @property
    def emit(self) -> Emit:
        assert self._emit is not None, "start() the engine first"
        return self._emit

    def start_worker(self, emit: Emit) -> None:
        self._emit = emit
        self._thread = threading.Thread(target=self.run_worker, name=self.thread_name,
                                        daemon=True)
        self._thread.start()

    def submit(self, job: JobT) -> None:
        """A job that is not a turn's answer (an announcement): never stale."""
        self._jobs.put((None, job))

    def submit_turn(self, job: JobT) -> None:
        """Answer the turn just committed; dropped if the user goes on speaking first."""
        self._jobs.put((self._generation, job))

    def take_turn(self) -> tuple[AudioChunk, ...]:
        """The committed turn's audio, kept until the next turn in case the user goes on."""
        self._committed = self.turn.take()
        return self._committed

    def resume_turn(self) -> bool:
        """The user went on after the commit: drop that turn's answer and put its audio
        back in front of what follows (the whole turn is heard again). True: the answer
        will not start (one already started was interrupted)."""
        self._generation += 1
        self.turn.put_back(self._committed)
        self._committed = ()
        self.drop_answer()
        return True

    def drop_answer(self) -> None:
        """Stop the answer being prepared or spoken (subclasses)."""

    @property
    def stale(self) -> bool:
        """The turn job being done was taken back by :meth:`resume_turn`."""
        running = self._running
        return running is not None and running != self._generation

    def backlog(self) -> int:
        """Jobs queued and not yet started."""
        return self._jobs.qsize()

    def run_worker(self) -> None:
        while (item := self._jobs.get()) is not None:
            generation, job = item
            if generation is not None and generation != self._generation:
                continue  # the user went on speaking: this turn is answered later, whole
            self._running = generation
            try:
                self.handle(job)
            except Exception:  # one bad job must not end the mode
                log.exception("%s: %s failed", self.thread_name, type(job).__name__)
            finally:
                self._running = None

    def handle(self, job: JobT) -> None:
        raise NotImplementedError

    def retire_turns(self) -> None:
        """The engine is closing: turns queued or being decoded are not answered."""
        self._generation += 1

    def stop_worker(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        """Stop after the jobs already queued (queued turns are retired, other jobs such as
        dictation are done); wait at most ``timeout_s`` for that."""
        self.retire_turns()
        self._jobs.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
            if thread.is_alive():
                log.error("%s thread did not stop within %.0f s", self.thread_name, timeout_s)

    def hear(self, stt: TurnTranscriber, chunks: tuple[AudioChunk, ...], item_id: str) -> str:
        """The turn's transcript (blocking); partial transcripts are emitted as they come."""
        emit = self.emit

        def partial(text: str) -> None:
            emit(InputTranscript(item_id=item_id, text=text, is_final=False))

        return stt.transcribe(chunks, partial)

    # --- the turn's audio (ConversationEngine methods) ------------------------------

    def send_audio(self, chunk: AudioChunk) -> None:
        self.turn.add(chunk)
        if self.transcriber is not None:
            try:
                self.transcriber.feed(chunk)
            except SpeechAPIError as exc:
                log.warning("live transcription: sending audio failed: %s", exc)

    def cancel_turn(self) -> None:
        self.turn.clear()
        self._committed = ()
        if self.transcriber is not None:
            try:
                self.transcriber.reset()
            except SpeechAPIError as exc:
                log.warning("live transcription: clearing the turn failed: %s", exc)
