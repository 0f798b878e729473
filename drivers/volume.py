"""The speaker volume: one level shared by the playback writer and the volume skills.

The level is a percentage (what the user says: "volume 40 percent"); the gain
applied to samples follows a squared curve, because loudness is heard roughly
logarithmically and a linear gain makes the top half of the range sound the same.
Reads and writes are single attribute accesses, so any thread may use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")


class VolumeControl:
    """A 0-100 % speaker level; ``gain`` is what the writer multiplies samples by."""

    def __init__(self, level: int = 80) -> None:
        self._level = _clamp(level)

    @property
    def level(self) -> int:
        return self._level

    @level.setter
    def level(self, value: int) -> None:
        self._level = _clamp(value)

    @property
    def gain(self) -> float:
        return (self._level / 100.0) ** 2

    def apply(self, pcm: bytes) -> bytes:
        """``pcm`` (s16le) scaled by the current gain; unchanged at 100 %."""
        gain = self.gain
        if gain >= 1.0 or not pcm:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * gain
        return np.round(samples).astype("<i2").tobytes()


def _clamp(level: int) -> int:
    return max(0, min(100, int(level)))
