"""Has the speech in a turn's audio paused? (when to start decoding it early)

The turn's end is decided elsewhere (the segmenter's endpoint, ``endpoint_silence_ms``
of silence). A recogniser that waits for it wastes that silence: :class:`PauseDetector`
watches the audio the engine receives and says when it has ended in ``after_ms`` of
quiet, so a decode of the audio so far can start while the endpoint is still counting;
and whether speech came back after that, so a decode of the paused audio is never
taken for the whole turn.

Quiet is relative to the turn's own speech: a 20 ms frame more than ``drop_db`` below the
loudest frame heard in the turn, or below ``SPEECH_MIN_DBFS``. A level test and no VAD:
the engine gets no VAD decisions, and one pass over 320 samples is all it costs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from drivers.local.framing import to_pcm16_mono
from speech_api import AudioChunk

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

SPEECH_MIN_DBFS = -50.0  # quieter than this is never speech (a quiet room is -60..-70)
DROP_DB = 20.0  # a word spoken on after a pause is within this of the turn's loudest frame
FRAME_MS = 20.0


class PauseDetector:
    """Feed the turn's chunks in order; ``paused`` once its speech ended ``after_ms`` ago."""

    def __init__(self, after_ms: float, *, drop_db: float = DROP_DB) -> None:
        if after_ms <= 0:
            raise ValueError("after_ms must be > 0")
        self.after_ms = after_ms
        self.drop_db = drop_db
        self.reset()

    def reset(self) -> None:
        """A new turn: forget its level and its pause."""
        self._peak_dbfs = -math.inf
        self._quiet_ms = 0.0
        self._heard_speech = False
        self.speech_frames = 0  # frames heard as speech in this turn (ever increasing)

    @property
    def paused(self) -> bool:
        """The turn has speech, and it has been quiet for at least ``after_ms`` since."""
        return self._heard_speech and self._quiet_ms >= self.after_ms

    def feed(self, chunk: AudioChunk) -> None:
        pcm = to_pcm16_mono(chunk, what="pause detector input")
        samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
        per_frame = max(1, round(pcm.sample_rate * FRAME_MS / 1000))
        for offset in range(0, len(samples), per_frame):
            frame = samples[offset:offset + per_frame]
            self._frame(_dbfs(frame), len(frame) * 1000 / pcm.sample_rate)

    def _frame(self, db: float, ms: float) -> None:
        self._peak_dbfs = max(self._peak_dbfs, db)
        if db >= max(SPEECH_MIN_DBFS, self._peak_dbfs - self.drop_db):
            self._heard_speech = True
            self._quiet_ms = 0.0
            self.speech_frames += 1
        else:
            self._quiet_ms += ms


def _dbfs(frame: np.ndarray) -> float:
    power = float(frame @ frame) / (max(1, len(frame)) * 32768.0 * 32768.0)
    return -math.inf if power <= 0 else 10 * math.log10(power)
