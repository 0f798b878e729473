"""Fake PCM objects for the driver's ``pcm_factory`` seam: xruns and vanishing devices.

Real alsa-lib file PCMs never xrun or vanish; these stand in for a real card or
earpiece. A :class:`FakePcmFactory` hands out one scripted PCM per open (or raises
``ALSAAudioError`` for opens scripted to fail) and records the keyword arguments.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import alsaaudio

EPIPE = -32


class _FakePcm:
    """What both fakes share: the granted parameters and the closed flag."""

    def __init__(self, rate: int, channels: int, period: int, periods: int = 4) -> None:
        self.rate, self.channels, self.period = rate, channels, period
        self.buffer = period * periods
        self.closed = False

    def info(self) -> Mapping[str, Any]:
        return {"rate": self.rate, "channels": self.channels, "period_size": self.period,
                "buffer_size": self.buffer}

    def close(self) -> None:
        self.closed = True


class FakeCapturePcm(_FakePcm):
    """Returns scripted reads: bytes (a period), "overrun", or "error" (device gone)."""

    def __init__(
        self, script: Sequence[bytes | str], rate: int, channels: int, period: int
    ) -> None:
        super().__init__(rate, channels, period)
        self.script = list(script)

    def read(self) -> tuple[int, bytes]:
        step = self.script.pop(0) if self.script and not self.closed else "error"
        if step == "overrun":
            return EPIPE, b""
        if step == "error":
            raise alsaaudio.ALSAAudioError("No such device")
        assert isinstance(step, bytes)
        return len(step) // (2 * self.channels), step


class DeviceClock:
    """The fill level of a device buffer that plays ``rate * speed`` frames per second.

    Reusable by any fake playback device (``avail()`` = ``buffer - level()``).
    Not locked: the owning PCM holds its lock around every call.
    """

    def __init__(self, rate: int, speed: float = 1.0) -> None:
        self.frames_per_s = rate * speed
        self._queued = 0  # frames in the buffer at _since
        self._since = time.monotonic()

    def level(self) -> int:
        played = int((time.monotonic() - self._since) * self.frames_per_s)
        return max(0, self._queued - played)

    def add(self, frames: int) -> None:
        self._queued, self._since = self.level() + frames, time.monotonic()

    def empty(self) -> None:
        self._queued, self._since = 0, time.monotonic()


class FakePlaybackPcm(_FakePcm):
    """A device that plays in real time: ``avail()`` shrinks as you write and recovers
    with the wall clock. ``write_script`` entries ("underrun": returns -EPIPE,
    "broken": raises "Broken pipe", "stall": the caller comes back after the buffer ran dry,
    "error": device gone) apply to the next writes in
    turn; ``None`` entries write normally."""

    def __init__(self, rate: int, channels: int, period: int, periods: int = 4,
                 write_script: list[str | None] | None = None) -> None:
        super().__init__(rate, channels, period, periods)
        self.write_script = list(write_script or [])
        self.written = bytearray()  # everything the device accepted
        self.drops = 0
        self.heard_at_drop: int | None = None  # frames the listener had heard when dropped
        self._lock = threading.Lock()
        self._clock = DeviceClock(rate)

    def avail(self) -> int:
        with self._lock:
            return self.buffer - self._clock.level()

    def write(self, data: bytes) -> int:
        with self._lock:
            step = self.write_script.pop(0) if self.write_script else None
            if self.closed or step == "error":
                raise alsaaudio.ALSAAudioError("No such device")
            if step == "underrun":
                return EPIPE
            if step == "broken":  # pyalsaaudio's failed in-place underrun recovery
                raise alsaaudio.ALSAAudioError("Broken pipe [default]")
            frames = len(data) // (2 * self.channels)
            self._clock.add(frames)
            self.written += data
        if step == "stall":  # the writer is then descheduled for longer than the buffer
            time.sleep(self.buffer / self.rate + 0.05)
        return frames

    def heard_frames(self) -> int:
        """Frames the listener has heard so far (written, and played out of the buffer)."""
        with self._lock:
            return self._heard_frames()

    def _heard_frames(self) -> int:
        return len(self.written) // (2 * self.channels) - self._clock.level()

    def drop(self) -> None:
        with self._lock:
            self.drops += 1
            self.heard_at_drop = self._heard_frames()
            self._clock.empty()


class FakePcmFactory:
    """``pcm_factory`` that returns ``pcms`` in turn; an ``Exception`` entry is raised."""

    def __init__(self, pcms: list[Any]) -> None:
        self.pcms = list(pcms)
        self.opens: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.opens.append(kwargs)
        if not self.pcms:
            raise alsaaudio.ALSAAudioError("No such device")
        pcm = self.pcms.pop(0)
        if isinstance(pcm, BaseException):
            raise pcm
        return pcm
