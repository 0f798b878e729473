"""Transcribe mode (dictation): live partial and final transcripts, no spoken reply.

Online, each turn's audio streams into a Realtime transcription session while it
is spoken; the end of the turn commits it. Offline (``transcribe.provider: local``,
or while the provider link is not online) the local recogniser hears the turn.
Final transcripts are delivered in order to the configured outputs (a file they
are appended to, standard output, a hook command getting the text on stdin).
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from actors.engine import Emit
from actors.engines.link import ProviderLink
from actors.engines.speaker import ReplyFactory
from actors.engines.transcribers import LiveTranscriber, OnPartial, TurnTranscriber
from actors.engines.worker import WorkerEngine
from speech_api import AudioChunk, SpeechAPIError
from speech_api.events import InputTranscript, SessionReady

log = logging.getLogger(__name__)

HOOK_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 30.0  # at stop, turns already spoken are still transcribed this long


@dataclass(frozen=True, slots=True)
class _Job:
    chunks: tuple[AudioChunk, ...]
    item_id: str
    committed: bool  # committed to the live session: its final comes from there


@dataclass(frozen=True, slots=True)
class TranscriptOutputs:
    """Where transcripts go: finals to the file, the hook and standard output, partials
    to standard output; the log shows them only with ``logging.conversation``."""

    output_file: Path | None = None
    print_transcripts: bool = True
    hook: str | None = None
    hook_timeout_s: float = HOOK_TIMEOUT_S
    log_conversation: bool = False

    def partial(self, text: str) -> None:
        if self.print_transcripts:
            print(f"... {text}", flush=True)

    def deliver(self, text: str) -> None:
        if self.print_transcripts:
            print(text, flush=True)
        if self.log_conversation:
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


class TranscribeEngine(WorkerEngine[_Job]):
    """Dictation: each turn is acknowledged at once and transcribed in order.

    The turn's ``ResponseDone`` (no audio) is emitted as soon as the turn is queued,
    so the conversation listens again straight away and a speaker who pauses and goes
    on loses nothing; the transcripts follow in order on the worker thread.
    ``live`` (a provider session kept open by the link) hears turns while it is
    online; otherwise ``local`` (an offline recogniser) does; with neither, the turn
    is reported, once per outage, as not transcribed.
    """

    thread_name = "transcribe-engine"

    def __init__(self, outputs: TranscriptOutputs, *, live: LiveTranscriber | None = None,
                 local: TurnTranscriber | None = None,
                 drain_timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        if live is None and local is None:
            raise ValueError("a transcribe engine needs a live or a local transcriber")
        super().__init__(live)
        self.live = live
        self.local = local
        self.outputs = outputs
        self.drain_timeout_s = drain_timeout_s
        self.replies = ReplyFactory("transcribe")
        self.finals: list[str] = []
        self._turns = 0
        self._said_cannot = False

    @property
    def link(self) -> ProviderLink | None:
        return self.live.link if self.live is not None else None

    def start(self, emit: Emit) -> None:
        self.start_worker(emit)
        if self.live is not None:
            self.live.start()
        emit(SessionReady())  # always listening: online, local, or saying it cannot

    def end_turn(self) -> None:
        chunks = self.turn.take()
        self._turns += 1
        item_id = f"transcribe-in-{self._turns}"
        reply = self.replies.start(self.emit)
        reply.text("")  # no spoken answer: the conversation listens again at once
        reply.done()
        # the live session is committed now, before the next turn's audio streams in
        self.submit(_Job(chunks, item_id, self._commit_live(chunks)))

    def _commit_live(self, chunks: tuple[AudioChunk, ...]) -> bool:
        live, link = self.live, self.link
        if live is None or link is None:
            return False
        try:
            if link.online:
                live.commit(chunks)
                return True
            live.reset()  # audio streamed before the link went down is not committed
        except SpeechAPIError as exc:
            log.warning("live transcription: ending the turn failed: %s", exc)
            link.error(str(exc))
        return False

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        return None  # nothing is spoken in this mode

    def tool_result(self, call_id: str, output: str) -> None:
        return None

    def close(self) -> None:
        """Finish the turns already spoken (up to ``drain_timeout_s``), then stop."""
        backlog = self.backlog()
        if backlog:
            log.info("transcribing the %d turn(s) still queued before stopping", backlog)
        self.stop_worker(self.drain_timeout_s)
        if self.live is not None:
            self.live.close()
        if self.local is not None:
            self.local.close()

    def handle(self, job: _Job) -> None:
        text = self._transcribe(job)
        if text is None:
            return
        self.emit(InputTranscript(item_id=job.item_id, text=text, is_final=True))
        if text:
            self.finals.append(text)
            del self.finals[:-100]
            self.outputs.deliver(text)

    def _transcribe(self, job: _Job) -> str | None:
        live, link = self.live, self.link
        if job.committed and live is not None and link is not None:
            try:
                return self._live_final(live, job.item_id)
            except SpeechAPIError as exc:
                log.warning("live transcription failed: %s", exc)
                link.error(str(exc))
        if self.local is not None:
            if link is not None:
                link.offline_turn()
            return self.hear(self.local, job.chunks, job.item_id)
        if not self._said_cannot:
            self._said_cannot = True
            reason = link.snapshot()["last_error"] if link is not None else None
            log.error("cannot transcribe: the provider is not online (%s) and there is no "
                      "local transcriber (fallback.enabled is false, or transcribe.provider: "
                      "local); turns are not transcribed until the provider is back",
                      reason or "connecting")
        return None

    def _live_final(self, live: LiveTranscriber, item_id: str) -> str:
        return live.final(self._partials(item_id))

    def _partials(self, item_id: str) -> OnPartial:
        emit = self.emit

        def partial(text: str) -> None:
            emit(InputTranscript(item_id=item_id, text=text, is_final=False))
            self.outputs.partial(text)

        return partial

    def hear(self, stt: TurnTranscriber, chunks: tuple[AudioChunk, ...], item_id: str) -> str:
        """As WorkerEngine.hear, and the partials reach the outputs too."""
        return stt.transcribe(chunks, self._partials(item_id))
