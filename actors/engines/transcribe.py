"""Transcribe mode (dictation): live partial and final transcripts, no spoken reply.

Each turn's audio streams into a Realtime transcription session while it is
spoken; the end of the turn commits it and the final transcript is delivered, in
order, to the configured outputs (a file it is appended to, the log, a hook
command getting the text on stdin). The turn then ends with a ``ResponseDone``
that carries no audio, so the conversation goes back to listening or idle.
"""

from __future__ import annotations

import logging
import queue
import shlex
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from actors.engine import Emit
from actors.engines.local import TurnAudio
from actors.engines.speaker import ReplyFactory
from actors.engines.transcribers import LiveTranscriber
from drivers.backoff import Backoff
from speech_api import AudioChunk, SpeechAPIError
from speech_api.events import ConnectionLost, InputTranscript, ProviderError, SessionReady

log = logging.getLogger(__name__)

HOOK_TIMEOUT_S = 10.0
JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class TranscriptOutputs:
    """Where final transcripts go."""

    output_file: Path | None = None
    print_transcripts: bool = True
    hook: str | None = None
    hook_timeout_s: float = HOOK_TIMEOUT_S

    def deliver(self, text: str) -> None:
        if self.print_transcripts:
            log.info("transcript: %s", text)
        if self.output_file is not None:
            try:
                with self.output_file.open("a", encoding="utf-8") as out:
                    out.write(text + "\n")
            except OSError as exc:
                log.error("cannot append the transcript to %s: %s", self.output_file, exc)
        if self.hook:
            self._run_hook(self.hook, text)

    def _run_hook(self, hook: str, text: str) -> None:
        try:
            done = subprocess.run(shlex.split(hook), input=text + "\n", text=True,
                                  capture_output=True, timeout=self.hook_timeout_s, check=False)
        except (OSError, ValueError) as exc:
            log.error("transcript hook %r could not run: %s", hook, exc)
            return
        except subprocess.TimeoutExpired:
            log.error("transcript hook %r took longer than %.0f s; stopped", hook,
                      self.hook_timeout_s)
            return
        if done.returncode != 0:
            log.warning("transcript hook %r exited %d: %s", hook, done.returncode,
                        done.stderr.strip()[-300:])


class TranscribeEngine:
    def __init__(self, transcriber: LiveTranscriber, outputs: TranscriptOutputs,
                 backoff: Backoff | None = None) -> None:
        self.transcriber = transcriber
        self.outputs = outputs
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.turn = TurnAudio()
        self.replies = ReplyFactory("transcribe")
        self.finals: list[str] = []
        self._jobs: queue.Queue[tuple[AudioChunk, ...] | None] = queue.Queue()
        self._stop = threading.Event()
        self._emit: Emit | None = None
        self._thread: threading.Thread | None = None
        self._turns = 0

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self._thread = threading.Thread(target=self._run, name="transcribe-engine", daemon=True)
        self._thread.start()

    def send_audio(self, chunk: AudioChunk) -> None:
        self.turn.add(chunk)
        try:
            self.transcriber.feed(chunk)
        except SpeechAPIError as exc:
            log.warning("transcription: sending audio failed: %s", exc)

    def end_turn(self) -> None:
        self._jobs.put(self.turn.take())

    def cancel_turn(self) -> None:
        self.turn.clear()
        try:
            self.transcriber.reset()
        except SpeechAPIError as exc:
            log.warning("transcription: clearing the turn failed: %s", exc)

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        return None  # nothing is spoken in this mode

    def tool_result(self, call_id: str, output: str) -> None:
        return None

    def close(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("transcribe engine thread did not stop within %.0f s", JOIN_TIMEOUT_S)
        self.transcriber.close()

    def _run(self) -> None:
        assert self._emit is not None
        self._connect(self._emit)
        while (chunks := self._jobs.get()) is not None:
            self._transcribe(chunks, self._emit)

    def _connect(self, emit: Emit) -> None:
        while not self._stop.is_set():
            try:
                self.transcriber.connect()
            except SpeechAPIError as exc:
                delay = self.backoff.next_delay()
                log.warning("transcription session: connecting failed (%s); retrying in "
                            "%.1f s", exc, delay)
                emit(ConnectionLost(reason=str(exc)))
                self._stop.wait(delay)
                continue
            self.backoff.reset()
            emit(SessionReady())
            return

    def _transcribe(self, chunks: tuple[AudioChunk, ...], emit: Emit) -> None:
        self._turns += 1
        item_id = f"transcribe-in-{self._turns}"
        reply = self.replies.start(emit)
        try:
            text = self.transcriber.transcribe(
                chunks, lambda partial: emit(InputTranscript(item_id=item_id, text=partial,
                                                             is_final=False)))
        except SpeechAPIError as exc:
            log.warning("transcription failed: %s", exc)
            emit(ProviderError(message=str(exc), fatal=False))
            reply.done("failed")
            return
        emit(InputTranscript(item_id=item_id, text=text, is_final=True))
        if text:
            self.finals.append(text)
            del self.finals[:-100]
            self.outputs.deliver(text)
        reply.text(text)
        reply.done()
