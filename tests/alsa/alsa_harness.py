"""Reusable helpers for tests through real alsa-lib, using its ``file`` plugin.

No sound card is needed: ``tests/alsa/asoundrc`` defines two PCMs backed by files, on top of
``tests/alsa/alsa.conf``, the tests' own base configuration (no hooks that load /etc/alsa/conf.d,
/etc/asound.conf or ~/.asoundrc, no sound-card PCMs): what a machine has installed cannot change
what the tests see. ``tests/conftest.py`` puts every test (and every subprocess it starts) on the
base with :func:`isolate_alsa`.

- ``CAPTURE_PCM`` (``"testcap"``): capture reads raw s16le from ``$ALSA_TEST_INFILE``
  (as fast as possible from a regular file; in real time from a FIFO fed by
  :class:`FifoFeeder`). After the end of the input, alsa-lib keeps returning stale
  data: read only as much as you fed.
- ``PLAYBACK_PCM`` (``"testplay"``): playback writes a WAV of everything written to
  ``$ALSA_TEST_OUTFILE``; read it back with :func:`read_played_wav` after closing.
- :func:`base_alsa_env()` -> the environment that selects only the base (an empty machine);
  :func:`alsa_env(infile, outfile)` -> the environment variables that select the
  asoundrc and the files; :func:`use_alsa_files(monkeypatch, infile, outfile)` sets them.
- fixture ``alsa_files`` (pull it into a conftest with
  ``from tests.alsa.alsa_harness import alsa_files  # noqa: F401``): an
  :class:`AlsaFiles` with ``infile``/``outfile`` paths in ``tmp_path``, environment set.
- :class:`FifoFeeder(path, pcm, sample_rate, channels=1, chunk_ms=20)`: a context
  manager that makes ``path`` a FIFO and writes ``pcm`` into it in wall-clock time
  from a thread (``started_at_ns`` = when the first byte went in), then silence until
  the context ends, as a microphone would (at the FIFO's end alsa-lib would return
  stale audio as fast as it is read: an endless, infinitely fast last word).
  ``join(timeout)`` waits until all of ``pcm`` went in; ``say(pcm)`` speaks more from
  the next chunk on. Stopped and joined on exit.
- :func:`sine_pcm`, :func:`noise_pcm`: deterministic s16le test signals.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from speech_api.audio import AudioChunk

ASOUNDRC = Path(__file__).with_name("asoundrc")
BASE_CONF = Path(__file__).with_name("alsa.conf")
CAPTURE_PCM = "testcap"
PLAYBACK_PCM = "testplay"


def base_alsa_env() -> dict[str, str]:
    """The environment that gives alsa-lib only the tests' base config: no sound devices."""
    return {"ALSA_CONFIG_PATH": str(BASE_CONF)}


def isolate_alsa() -> None:
    """Put this process, and every child it starts, on the tests' base config."""
    os.environ.update(base_alsa_env())


def alsa_env(infile: Path, outfile: Path) -> dict[str, str]:
    """Environment variables pointing alsa-lib at the test asoundrc and these files."""
    return {
        "ALSA_CONFIG_PATH": f"{BASE_CONF}:{ASOUNDRC}",
        "ALSA_TEST_INFILE": str(infile),
        "ALSA_TEST_OUTFILE": str(outfile),
    }


def use_alsa_files(monkeypatch: pytest.MonkeyPatch, infile: Path, outfile: Path) -> None:
    for key, value in alsa_env(infile, outfile).items():
        monkeypatch.setenv(key, value)


@dataclass(frozen=True)
class AlsaFiles:
    infile: Path
    outfile: Path


@pytest.fixture
def alsa_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AlsaFiles:
    files = AlsaFiles(infile=tmp_path / "capture-in.raw", outfile=tmp_path / "played.wav")
    use_alsa_files(monkeypatch, files.infile, files.outfile)
    return files


def sine_pcm(freq: float, rate: int, seconds: float, amp: float = 0.5) -> bytes:
    n = np.arange(int(rate * seconds))
    samples = np.rint(amp * 32767 * np.sin(2 * np.pi * freq * n / rate)).astype("<i2")
    return samples.tobytes()


def noise_pcm(rate: int, seconds: float, seed: int = 1) -> bytes:
    """Random samples: any misplaced or lost byte shows up in an equality check."""
    rng = np.random.default_rng(seed)
    samples = rng.integers(-20000, 20000, size=int(rate * seconds), dtype=np.int16)
    return samples.astype("<i2").tobytes()


def read_played_wav(path: Path) -> AudioChunk:
    """The PCM in a WAV written by the file plugin (header sizes need not be final)."""
    raw = path.read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise AssertionError(f"{path} is not a WAV file")
    pos = 12
    fmt: tuple[int, int, int] | None = None
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            _tag, channels, rate = struct.unpack("<HHI", raw[body : body + 8])
            bits = struct.unpack("<H", raw[body + 14 : body + 16])[0]
            fmt = (rate, channels, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise AssertionError(f"{path}: data before fmt")
            rate, channels, bits = fmt
            data = raw[body:]  # to the end: the plugin may not have patched the size
            frame = channels * bits // 8
            data = data[: len(data) - len(data) % frame]
            return AudioChunk.pcm(data, rate, channels=channels, bit_depth=bits)
        pos = body + size + (size & 1)
    raise AssertionError(f"{path}: no data chunk")


class FifoFeeder:
    """Feed PCM into a FIFO at wall-clock rate from a thread (see the module docstring)."""

    def __init__(self, path: Path, pcm: bytes, sample_rate: int, channels: int = 1,
                 chunk_ms: int = 20) -> None:
        self.path = path
        self.pcm = pcm
        self.chunk_bytes = sample_rate * chunk_ms // 1000 * 2 * channels
        self.chunk_s = chunk_ms / 1000
        self.started_at_ns = 0
        self.bytes_written = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards pcm and the next offset (say() splices)
        self._next = 0
        self._fed = threading.Event()  # all of pcm went in (silence follows)
        self._thread = threading.Thread(target=self._run, name="fifo-feeder", daemon=True)

    def __enter__(self) -> FifoFeeder:
        if self.path.exists():
            self.path.unlink()
        os.mkfifo(self.path)
        # O_RDWR never blocks and makes the FIFO have a writer, so alsa-lib's open of the
        # infile (which holds the GIL while it blocks) returns at once.
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "FIFO feeder thread did not stop"

    def join(self, timeout: float) -> bool:
        """Wait until all of ``pcm`` went in; False on timeout."""
        return self._fed.wait(timeout)

    def _run(self) -> None:
        try:
            self._feed(self._fd)
        except BaseException as exc:  # noqa: BLE001 - reported to the test through .error
            self.error = exc
        finally:
            os.close(self._fd)

    def say(self, pcm: bytes) -> None:
        """Put ``pcm`` into the stream from the next chunk on, over what was due there
        (speak in reaction to the hub, e.g. when its answer starts)."""
        with self._lock:
            at = self._next
            self.pcm = self.pcm[:at].ljust(at, b"\0") + pcm + self.pcm[at + len(pcm):]
            self._fed.clear()

    def _feed(self, fd: int) -> None:
        start = time.monotonic()
        self.started_at_ns = time.monotonic_ns()
        index = 0
        while True:
            # Sleep to the chunk's due time (absolute, so errors do not accumulate).
            if self._stop.wait(max(0.0, start + index * self.chunk_s - time.monotonic())):
                return
            with self._lock:
                offset = index * self.chunk_bytes
                piece = self.pcm[offset : offset + self.chunk_bytes]
                if not piece:  # the input is over: the room is silent from now on
                    self._fed.set()
                    piece = bytes(self.chunk_bytes)
                self._next = offset + len(piece)
            index += 1
            while piece:
                try:
                    sent = os.write(fd, piece)
                except BlockingIOError:  # pipe full: the reader is behind (or gone)
                    if self._stop.wait(0.005):
                        return
                    continue
                piece = piece[sent:]
                self.bytes_written += sent


def iter_chunks(pcm: bytes, rate: int, ms: int) -> Iterator[AudioChunk]:
    """``pcm`` as mono s16le chunks of ``ms`` each."""
    yield from AudioChunk.pcm(pcm, rate).split(ms)
