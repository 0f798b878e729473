"""Transcribe mode (dictation): live partial and final transcripts, no spoken reply.

Each turn's audio streams into a Realtime transcription session while it is
spoken; the end of the turn commits it and the final transcript is delivered, in
order, to the configured outputs (a file it is appended to, the log, a hook
command getting the text on stdin). The turn then ends with a ``ResponseDone``
that carries no audio, so the conversation goes back to listening or idle.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from actors.engine import Emit
from actors.engines.link import ProviderLink
from actors.engines.speaker import ReplyFactory
from actors.engines.transcribers import LiveTranscriber
from actors.engines.worker import WorkerEngine
from drivers.backoff import Backoff
from speech_api import AudioChunk, SpeechAPIError
from speech_api.events import ConnectionLost, InputTranscript, ProviderError, SessionReady

log = logging.getLogger(__name__)

HOOK_TIMEOUT_S = 10.0


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


class TranscribeEngine(WorkerEngine[tuple[AudioChunk, ...]]):
    thread_name = "transcribe-engine"

    def __init__(self, transcriber: LiveTranscriber, outputs: TranscriptOutputs,
                 link: ProviderLink | None = None, backoff: Backoff | None = None) -> None:
        super().__init__(transcriber)
        self.live = transcriber
        self.outputs = outputs
        self.link = link or ProviderLink()
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.replies = ReplyFactory("transcribe")
        self.finals: list[str] = []
        self._stop = threading.Event()
        self._turns = 0

    def start(self, emit: Emit) -> None:
        self.start_worker(emit)

    def end_turn(self) -> None:
        self.submit(self.turn.take())

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        return None  # nothing is spoken in this mode

    def tool_result(self, call_id: str, output: str) -> None:
        return None

    def close(self) -> None:
        self._stop.set()
        self.stop_worker()
        self.live.close()

    def run_worker(self) -> None:
        self._connect(self.emit)  # before the first turn
        super().run_worker()

    def handle(self, chunks: tuple[AudioChunk, ...]) -> None:
        self._transcribe(chunks, self.emit)

    def _connect(self, emit: Emit) -> None:
        while not self._stop.is_set():
            try:
                self.live.connect()
            except SpeechAPIError as exc:
                delay = self.backoff.next_delay()
                log.warning("transcription session: connecting failed (%s); retrying in "
                            "%.1f s", exc, delay)
                self.link.set_online(False, error=str(exc))
                emit(ConnectionLost(reason=str(exc)))
                self._stop.wait(delay)
                continue
            self.backoff.reset()
            self.link.set_online(True)
            emit(SessionReady())
            return

    def _transcribe(self, chunks: tuple[AudioChunk, ...], emit: Emit) -> None:
        self._turns += 1
        item_id = f"transcribe-in-{self._turns}"
        reply = self.replies.start(emit)
        try:
            text = self.hear(self.live, chunks, item_id)
        except SpeechAPIError as exc:
            log.warning("transcription failed: %s", exc)
            self.link.error(str(exc))
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
