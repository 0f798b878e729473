"""An earpiece that comes and goes, through real alsa-lib (tests/alsa/asoundrc).

- :class:`LiveMic`: the capture PCM ``testcap`` reads ``$ALSA_TEST_INFILE``; until
  :meth:`LiveMic.appear` makes that FIFO, opening the PCM fails (ENOENT), as a
  bluealsa PCM does while the earpiece is away. Once there, a thread writes 20 ms
  of audio every 20 ms: silence, or what the test :meth:`~LiveMic.say` s.
- :class:`Speaker`: the playback PCM ``earplay`` fails to open ("Unknown PCM") until
  :meth:`Speaker.appear` points it at ``testplay``, which writes into a FIFO this
  class reads. :meth:`Speaker.vanish` closes the reader: alsa-lib's next write fails
  (EIO), and opening fails again until the next :meth:`Speaker.appear`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import numpy as np

from tests.alsa.alsa_harness import read_played_wav

CHUNK_MS = 20


class LiveMic:
    def __init__(self, path: Path, rate: int = 16000) -> None:
        self.path = path
        self.chunk = rate * CHUNK_MS // 1000 * 2
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fd = -1

    def appear(self) -> None:
        os.mkfifo(self.path)
        # O_RDWR: the FIFO always has a writer, so alsa-lib's open never blocks
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._run, name="live-mic", daemon=True)
        self._thread.start()

    def say(self, pcm: bytes) -> None:
        with self._lock:
            self._pending += pcm

    @property
    def saying(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            assert not self._thread.is_alive(), "live mic thread did not stop"
        if self._fd >= 0:
            os.close(self._fd)

    def _run(self) -> None:
        start, index = time.monotonic(), 0
        while not self._stop.wait(max(0.0, start + index * CHUNK_MS / 1000 - time.monotonic())):
            index += 1
            with self._lock:
                piece = bytes(self._pending[: self.chunk]).ljust(self.chunk, b"\0")
                del self._pending[: self.chunk]
            with contextlib.suppress(BlockingIOError):  # nobody reads: lost, as a real mic's
                os.write(self._fd, piece)


class Speaker:
    ENV = "ALSA_TEST_EARPIECE_PLAYBACK"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sessions: list[bytearray] = []  # what each connection received (a WAV)
        self._fd = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def appear(self) -> None:
        os.mkfifo(self.path)
        # the reader first: alsa-lib's blocking open for writing then returns at once
        self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.sessions.append(bytearray())
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(self._fd, self.sessions[-1]),
                                        name="speaker", daemon=True)
        self._thread.start()
        os.environ[self.ENV] = "testplay"

    def vanish(self) -> None:
        os.environ.pop(self.ENV, None)
        self.close()
        os.close(self._fd)
        self.path.unlink()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            assert not self._thread.is_alive(), "speaker thread did not stop"

    def loud_ms(self, session: int) -> int:
        """Milliseconds above a low RMS threshold in what connection ``session`` got."""
        wav = Path(f"{self.path}.{session}.wav")
        wav.write_bytes(bytes(self.sessions[session]))
        chunk = read_played_wav(wav)
        samples = chunk.to_numpy()[:, 0].astype(np.float64)
        frame = chunk.sample_rate // 100
        frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
        return int(np.sum(np.sqrt(np.mean(frames**2, axis=1)) > 1000.0)) * 10

    def _run(self, fd: int, into: bytearray) -> None:
        while not self._stop.wait(0.01):
            try:
                while data := os.read(fd, 65536):
                    into += data
            except BlockingIOError:
                continue
