"""Frame levels in dBFS and the room's running noise floor.

Shared by the level meter (near-field screening) and the segmenter (where speech really
ends): both judge a frame by how loud it is against the quiet between words.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

FLOOR_MIN_DBFS = -60.0  # a quiet room through a real microphone; digital silence counts as this
SILENCE_DBFS = -100.0  # the level of a frame of zeros (log of 0 is not a number)
_FULL_SCALE_POWER = 32768.0 * 32768.0
_SILENCE_POWER = 10 ** (SILENCE_DBFS / 10)


def frame_dbfs(frame: np.ndarray) -> float:
    """One frame's level (the level meter's 20 ms frame per chunk: a dot is the cheapest)."""
    power = float(frame @ frame) / (len(frame) * _FULL_SCALE_POWER)
    return SILENCE_DBFS if power <= 0 else max(SILENCE_DBFS, 10 * math.log10(power))


def frame_levels(samples: np.ndarray, per_frame: int) -> list[float]:
    """The dBFS of each ``per_frame`` samples of 16-bit ``samples`` (a shorter last frame
    counts as one), in one pass: for batches of frames."""
    x = samples.astype(np.float32)
    whole = len(x) // per_frame * per_frame
    frames = x[:whole].reshape(-1, per_frame)
    powers = np.einsum("ij,ij->i", frames, frames) / per_frame
    if whole < len(x):
        rest = x[whole:]
        powers = np.append(powers, float(rest @ rest) / len(rest))
    levels = 10 * np.log10(np.maximum(powers / _FULL_SCALE_POWER, _SILENCE_POWER))
    return list(levels.tolist())


class FloorTracker:
    """Follows the quietest frames down quickly and creeps up slowly (``rise_db_per_s``), so
    the pauses between words keep pulling it back to the room's own noise while speech
    barely moves it (no VAD needed); never below ``minimum_dbfs`` (``FLOOR_MIN_DBFS``), since
    an earpiece that gates its mic to digital silence between words would otherwise make
    anything look loud."""

    def __init__(self, *, rise_db_per_s: float = 1.0, fall: float = 0.2,
                 minimum_dbfs: float = FLOOR_MIN_DBFS) -> None:
        if rise_db_per_s < 0 or not 0 < fall <= 1:
            raise ValueError("rise_db_per_s must be >= 0 and 0 < fall <= 1")
        self.rise_db_per_s = rise_db_per_s
        self.minimum_dbfs = minimum_dbfs
        self.fall = fall  # the share of the way down to a quieter frame the floor goes at once
        self.dbfs: float | None = None  # None until the first frame

    def update(self, db: float, seconds: float, frames: int = 1) -> float:
        """Take ``frames`` frames lasting ``seconds`` in all, the quietest at ``db`` dBFS,
        into account; the floor after them."""
        floor = self.dbfs
        if floor is None:
            floor = db
        elif db < floor:
            fall = self.fall if frames == 1 else 1 - (1 - self.fall) ** frames
            floor += (db - floor) * fall
        else:
            floor = min(db, floor + self.rise_db_per_s * seconds)
        self.dbfs = max(self.minimum_dbfs, floor)
        return self.dbfs
