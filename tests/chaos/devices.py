"""Sound devices that vanish and come back, for the ALSA drivers' ``pcm_factory`` seam.

:class:`Mic` hands the capture driver PCMs that deliver, at ``speed`` times real
time, whatever the test made it :meth:`~Mic.say` (silence otherwise).
:class:`Speaker` hands the playback driver PCMs that consume audio at ``speed``
times real time and only count it (a long soak keeps no audio). Both can
:meth:`vanish` for a while: the open PCM fails on its next read/write with the
same ``ALSAAudioError`` alsa-lib raises when an earpiece walks away, and every
open fails until the device is back. Nothing here stores audio beyond what was said
and not yet read, so memory stays flat over any number of turns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import alsaaudio

GONE = "No such device"


class _Vanishing:
    """The shared 'device is gone until ...' bookkeeping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0  # bumped by vanish(): PCMs of older generations fail
        self._back_at = 0.0
        self.vanished = 0
        self.opens = 0

    def vanish(self, down_s: float) -> None:
        with self._lock:
            self._generation += 1
            self._back_at = time.monotonic() + down_s
            self.vanished += 1

    def _open(self) -> int:
        with self._lock:
            if time.monotonic() < self._back_at:
                raise alsaaudio.ALSAAudioError(GONE)
            self.opens += 1
            return self._generation

    def _alive(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation


class Mic(_Vanishing):
    """A microphone; ``pcm_factory=mic`` for :class:`drivers.alsa.AlsaCapture`."""

    def __init__(self, rate: int = 16000, speed: float = 1.0) -> None:
        super().__init__()
        self.rate = rate
        self.speed = speed
        self._pending = bytearray()
        self.frames_read = 0

    def say(self, pcm: bytes) -> None:
        """Queue mono PCM16 at ``rate`` to be 'heard' next."""
        with self._lock:
            self._pending += pcm

    @property
    def pending_ms(self) -> float:
        with self._lock:
            return len(self._pending) / 2 * 1000 / self.rate

    def __call__(self, **kwargs: Any) -> _MicPcm:
        generation = self._open()
        return _MicPcm(self, generation, int(kwargs["periodsize"]), int(kwargs["channels"]))

    def _take(self, nbytes: int) -> bytes:
        with self._lock:
            data = bytes(self._pending[:nbytes])
            del self._pending[:nbytes]
        return data + bytes(nbytes - len(data))


class _MicPcm:
    def __init__(self, mic: Mic, generation: int, period: int, channels: int) -> None:
        self._mic, self._generation = mic, generation
        self.period, self.channels = period, channels
        self._next = time.monotonic()
        self.closed = False

    def info(self) -> Mapping[str, Any]:
        return {"rate": self._mic.rate, "channels": self.channels, "period_size": self.period,
                "buffer_size": self.period * 4}

    def read(self) -> tuple[int, bytes]:
        # Pace like a real device: one period per period time (divided by speed).
        self._next += self.period / self._mic.rate / self._mic.speed
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            self._next = time.monotonic()  # fell behind: do not burst to catch up
        if self.closed or not self._mic._alive(self._generation):
            raise alsaaudio.ALSAAudioError(GONE)
        mono = self._mic._take(self.period * 2)
        self._mic.frames_read += self.period
        if self.channels == 2:
            mono = b"".join(mono[i:i + 2] * 2 for i in range(0, len(mono), 2))
        return self.period, mono

    def write(self, data: bytes) -> int:
        raise AssertionError("a capture PCM was written to")

    def avail(self) -> int:
        return 0

    def drop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class Speaker(_Vanishing):
    """An earpiece speaker; ``pcm_factory=speaker`` for :class:`drivers.alsa.AlsaPlayback`.

    ``frames_played`` counts every frame accepted; ``loud_frames`` those of audible
    periods (so a test can tell an answer from silence without storing audio).
    """

    def __init__(self, speed: float = 1.0) -> None:
        super().__init__()
        self.speed = speed
        self.frames_played = 0
        self.loud_frames = 0

    def __call__(self, **kwargs: Any) -> _SpeakerPcm:
        generation = self._open()
        return _SpeakerPcm(self, generation, int(kwargs["rate"]), int(kwargs["channels"]),
                           int(kwargs["periodsize"]), int(kwargs.get("periods", 4)))


class _SpeakerPcm:
    def __init__(self, speaker: Speaker, generation: int, rate: int, channels: int,
                 period: int, periods: int) -> None:
        self._speaker, self._generation = speaker, generation
        self.rate, self.channels, self.period = rate, channels, period
        self.buffer = period * periods
        self._queued = 0
        self._since = time.monotonic()
        self._lock = threading.Lock()
        self.closed = False

    def info(self) -> Mapping[str, Any]:
        return {"rate": self.rate, "channels": self.channels, "period_size": self.period,
                "buffer_size": self.buffer}

    def _level(self) -> int:
        played = int((time.monotonic() - self._since) * self.rate * self._speaker.speed)
        return max(0, self._queued - played)

    def avail(self) -> int:
        with self._lock:
            return self.buffer - self._level()

    def write(self, data: bytes) -> int:
        with self._lock:
            if self.closed or not self._speaker._alive(self._generation):
                raise alsaaudio.ALSAAudioError(GONE)
            frames = len(data) // (2 * self.channels)
            self._queued, self._since = self._level() + frames, time.monotonic()
        self._speaker.frames_played += frames
        if _loud(data):
            self._speaker.loud_frames += frames
        return frames

    def read(self) -> tuple[int, bytes]:
        raise AssertionError("a playback PCM was read from")

    def drop(self) -> None:
        with self._lock:
            self._queued, self._since = 0, time.monotonic()

    def close(self) -> None:
        self.closed = True


def _loud(data: bytes, threshold: int = 1000) -> bool:
    """True when some sample in ``data`` (s16le) is louder than ``threshold``."""
    view = memoryview(data).cast("h") if len(data) % 2 == 0 else memoryview(b"").cast("h")
    return any(abs(v) > threshold for v in view[::8])
