"""Speech-to-text in a child process, so a decode never stalls the hub.

pocketsphinx's Python binding keeps the interpreter lock (GIL) for the whole of a
decode: seconds for a long turn, during which no other thread of the hub runs —
not the capture reader, not the Listener, not playback — and captured audio is
lost ("listener fell behind: 19 captured chunks dropped"). Run in a child
process, the decoder uses its own interpreter; the hub only waits on a pipe.

:class:`ChildProcessSpeechToText` wraps any blocking STT client given as a
picklable factory (the child builds the client, so the model's memory is the
child's alone). Final and streamed (partial) transcripts cross the pipe; live
realtime transcription stays in-process (it decodes small blocks as they come).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from speech_api import AudioChunk, BlockingSpeechToTextClient
from speech_api.errors import TranscriptionError
from speech_api.events import RealtimeSessionConfig, TranscriptionEvent

log = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 120.0  # building a decoder (a grammar, a model) on a slow SD card
DECODE_TIMEOUT_S = 300.0  # one turn, even a long one on a busy board
STOP_TIMEOUT_S = 5.0
POLL_S = 0.1  # how soon abort() is noticed


class ChildProcessSpeechToText(BlockingSpeechToTextClient):
    """``make`` builds the real client in the child; it must be picklable (a module-level
    function or a ``functools.partial`` of a class)."""

    def __init__(self, make: Callable[[], BlockingSpeechToTextClient], *,
                 name: str = "speech-to-text") -> None:
        self._lock = threading.Lock()  # one request at a time on the pipe
        self._abort = threading.Event()  # set by abort(): stop waiting for the decode
        self._request_ids = itertools.count(1)
        self.busy = False  # a decode is in progress
        self._conn, self._process = _spawn(name)
        try:
            self._conn.send(make)  # pickled: the child imports what builds the client
        except OSError as exc:
            self.close()
            raise ValueError(f"the {name} process did not start: {exc}") from exc
        kind, detail = self._receive(LOAD_TIMEOUT_S, "loading", 0)
        if kind != "ready":
            self.close()
            raise ValueError(str(detail))
        self._languages: list[str] = list(detail)
        log.info("%s runs in process %s", name, self._process.pid)

    # --- BlockingSpeechToTextClient ---------------------------------------------------

    def supported_languages(self) -> list[str]:
        return list(self._languages)

    def transcribe_blocking(self, audio: AudioChunk, language: str | None = None,
                            prompt: str | None = None) -> str:
        *_partials, final = self._request("final", audio, language, prompt)
        return final

    def transcribe_stream_blocking(self, audio: AudioChunk, language: str | None = None,
                                   prompt: str | None = None) -> Iterator[str]:
        # the whole stream is decoded before the first text returns: the pipe carries
        # every partial, in order, and the caller sees the same sequence
        yield from self._request("stream", audio, language, prompt)

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        raise TranscriptionError("live transcription is not available from a child process")

    def abort(self) -> None:
        """Stop waiting for a decode in progress (its caller gets TranscriptionError); the
        child finishes it and its late answer is dropped. For an engine that is closing."""
        self._abort.set()

    def close(self) -> None:
        """Stop the child (idempotent)."""
        if self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(STOP_TIMEOUT_S)
        self._conn.close()

    # --- the pipe -----------------------------------------------------------------------

    def _request(self, how: str, audio: AudioChunk, language: str | None,
                 prompt: str | None) -> list[str]:
        pcm = audio.to_pcm()
        with self._lock:
            self._abort.clear()
            request_id = next(self._request_ids)
            try:
                self._conn.send((request_id, how, pcm.data, pcm.sample_rate, pcm.channels,
                                 language, prompt))
            except OSError as exc:
                raise TranscriptionError(f"the speech-to-text process is gone: {exc}") from exc
            self.busy = True
            try:
                kind, detail = self._receive(DECODE_TIMEOUT_S, "decoding", request_id)
            finally:
                self.busy = False
        if kind != "text":
            raise TranscriptionError(str(detail))
        return list(detail)

    def _receive(self, timeout_s: float, doing: str, request_id: int) -> tuple[str, Any]:
        """The answer to ``request_id`` (older ones, of aborted requests, are dropped)."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                if self._abort.is_set():
                    raise TranscriptionError(f"stopped while {doing}")
                if time.monotonic() > deadline:
                    raise TranscriptionError(f"the speech-to-text process took over "
                                             f"{timeout_s:.0f} s {doing}")
                if self._conn.poll(POLL_S):
                    answer_id, kind, detail = self._conn.recv()
                    if answer_id == request_id:
                        return str(kind), detail
        except (EOFError, OSError) as exc:
            raise TranscriptionError(f"the speech-to-text process ended while {doing} "
                                     f"(exit code {self._process.poll()})") from exc


def _spawn(name: str) -> tuple[Connection, subprocess.Popen[bytes]]:
    """A fresh interpreter (no fork of a threaded process) on one end of a socket pair.

    Not ``multiprocessing``'s "spawn": that also starts its resource-tracker process (13 MB
    resident for the hub's lifetime, for semaphores this pipe never makes)."""
    ours, theirs = socket.socketpair()
    boot = ("import sys; sys.path[:0] = __import__('json').loads(sys.argv[2]); "
            "from drivers.local.stt_process import child_main; child_main(int(sys.argv[1]))")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", boot, str(theirs.fileno()), json.dumps(sys.path),
             f"maigic-{name}"], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
    finally:
        theirs.close()
    return Connection(ours.detach()), process


def child_main(fd: int) -> None:
    """The child's entry point: the factory arrives first on the pipe, then requests."""
    conn = Connection(fd)
    try:
        make = conn.recv()
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the parent is gone
    except Exception as exc:  # noqa: BLE001 - e.g. the factory's module does not import
        conn.send((0, "error", f"{type(exc).__name__}: {exc}"))
        return
    _serve(make, conn)


def _serve(make: Callable[[], BlockingSpeechToTextClient], conn: Connection) -> None:
    """The child: build the client, then answer requests until told to stop."""
    try:
        client = make()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send((0, "error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send((0, "ready", client.supported_languages()))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return  # the parent is gone
        if request is None:
            return
        request_id, how, data, rate, channels, language, prompt = request
        audio = AudioChunk.pcm(data, rate, channels=channels)
        try:
            if how == "stream":
                texts = list(client.transcribe_stream_blocking(audio, language, prompt))
            else:
                texts = [client.transcribe_blocking(audio, language, prompt)]
            answer: tuple[int, str, Any] = (request_id, "text", texts)
        except Exception as exc:  # noqa: BLE001 - one failed decode is reported, not fatal
            answer = (request_id, "error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(answer)
        except OSError:
            return  # the parent went away while we decoded
