"""Earcons: short feedback tones generated in code (no asset files), at any rate.

Each earcon is a little melody of sine notes with a raised-cosine fade at both
ends of every note, so nothing clicks. All notes stay under 1.5 kHz, so they
survive an 8 kHz HFP link (3.4 kHz bandwidth) unchanged.
"""

from __future__ import annotations

import time
from dataclasses import replace
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

from speech_api.audio import AudioChunk
from speech_api.errors import AudioError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

FADE_MS = 6.0
MIN_RATE, MAX_RATE = 8000, 192_000


class Earcon(Enum):
    WAKE = "wake"  # listening: rising pair
    DONE = "done"  # turn over: falling pair
    ERROR = "error"  # something failed: two low buzzes
    OFFLINE = "offline"  # provider unreachable, running local: falling three-note
    MUTED = "muted"  # microphone off: short low drop
    UNMUTED = "unmuted"  # microphone on: short low rise
    TIMER = "timer"  # a timer rang: bright beeps
    CONNECTED = "connected"  # the earpiece's audio came (back): rising three-note


# (frequency Hz or 0 for a rest, duration ms); a second frequency adds an overtone.
_Note = tuple[float, float]
_MELODIES: dict[Earcon, tuple[_Note, ...]] = {
    Earcon.WAKE: ((660.0, 70.0), (880.0, 90.0)),
    Earcon.DONE: ((880.0, 70.0), (660.0, 90.0)),
    Earcon.ERROR: ((220.0, 130.0), (0.0, 60.0), (220.0, 130.0)),
    Earcon.OFFLINE: ((784.0, 90.0), (622.0, 90.0), (466.0, 140.0)),
    Earcon.MUTED: ((440.0, 60.0), (330.0, 90.0)),
    Earcon.UNMUTED: ((330.0, 60.0), (440.0, 90.0)),
    Earcon.CONNECTED: ((523.0, 60.0), (659.0, 60.0), (784.0, 90.0)),
    Earcon.TIMER: ((1320.0, 90.0), (0.0, 70.0), (1320.0, 90.0), (0.0, 70.0), (1320.0, 90.0)),
}
_OVERTONE = {Earcon.ERROR: 0.35}  # a buzzier sound for errors: add the 3rd harmonic


def melody(kind: Earcon) -> tuple[tuple[float, float], ...]:
    """The notes of an earcon as (Hz, ms) pairs; 0 Hz is a rest."""
    return _MELODIES[kind]


def earcon_ms(kind: Earcon, sample_rate: int) -> float:
    """How long :func:`render_earcon` plays ``kind`` at ``sample_rate``, without rendering it
    (the hub's start needs the wake earcon's length, not numpy)."""
    return sum(int(sample_rate * ms / 1000) for _freq, ms in _MELODIES[kind]) * 1000 / sample_rate


def render_earcon(kind: Earcon, sample_rate: int, volume: float = 0.5) -> AudioChunk:
    """The earcon as mono PCM16 at ``sample_rate``; ``volume`` 0..1 is the peak level."""
    if not isinstance(kind, Earcon):
        raise AudioError(f"unknown earcon {kind!r}; expected one of {[e.name for e in Earcon]}")
    if not MIN_RATE <= sample_rate <= MAX_RATE:
        raise AudioError(f"earcon sample_rate must be {MIN_RATE}..{MAX_RATE} Hz, got {sample_rate}")
    if not 0.0 <= volume <= 1.0:
        raise AudioError(f"earcon volume must be between 0.0 and 1.0, got {volume}")
    data = _render(kind, sample_rate, round(volume, 4))
    return replace(AudioChunk.pcm(data, sample_rate), captured_at_ns=time.monotonic_ns())


@lru_cache(maxsize=64)
def _render(kind: Earcon, sample_rate: int, volume: float) -> bytes:
    pieces = []
    overtone = _OVERTONE.get(kind, 0.0)
    for freq, ms in _MELODIES[kind]:
        n = int(sample_rate * ms / 1000)
        if freq <= 0:
            pieces.append(np.zeros(n))
            continue
        t = np.arange(n) / sample_rate
        wave = np.sin(2 * np.pi * freq * t) + overtone * np.sin(2 * np.pi * 3 * freq * t)
        wave /= np.max(np.abs(wave))
        pieces.append(wave * _envelope(n, sample_rate))
    samples = np.concatenate(pieces) * volume * 32767
    encoded: bytes = np.rint(samples).astype("<i2").tobytes()
    return encoded


def _envelope(n: int, sample_rate: int) -> npt.NDArray[np.float64]:
    fade = min(n // 2, int(sample_rate * FADE_MS / 1000))
    env = np.ones(n)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        env[:fade] = ramp
        env[n - fade :] = ramp[::-1]
    return env
