"""How loud is the speech, against the room's noise floor? (near-field screening)

An earpiece microphone hears its wearer loud and close; other people in the room (a
television, someone reading aloud) arrive 20 dB or more quieter. :class:`LevelMeter`
measures every 20 ms frame's RMS level in dBFS and keeps

- a running **noise floor**: it follows the quietest frames down quickly and creeps
  up slowly (``rise_db_per_s``), so the pauses between words keep pulling it back to
  the room's own noise while speech barely moves it (no VAD needed); it never goes
  below ``FLOOR_MIN_DBFS``, since an earpiece that gates its mic to digital silence
  between words would otherwise make any far voice look near;
- the **level of a stretch of speech**: the 90th percentile of its frame levels (the
  loud syllables, not the gaps between them), from the speech start the segmenter
  reported (frames up to ``lookback_s`` before it are kept) to its end (at most its last
  ``SEGMENT_MAX_S``: a television that never pauses costs no more memory).

The SNR (level minus floor) is what the Controller compares with
``conversation.near_field_snr_db``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.local.energy import FloorTracker, frame_dbfs
from drivers.local.framing import to_pcm16_mono
from drivers.local.segmenter import SpeechStarted, VadEvent
from speech_api import AudioChunk

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

# A speech start's onset (the frames the segmenter needed to confirm it) can be one soft
# consonant; a barge-in is judged by this much of the speech instead (bench_near_field.py:
# 200 ms of it rejected 3 % of the wearer's starts, 400 ms none, and accepted no room speech).
MEASURED_AFTER_MS = 400
SEGMENT_MAX_S = 60.0  # a longer speech is measured over its last minute (memory stays bounded)
_NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SpeechLevel:
    """A stretch of speech's level and the noise floor when it was measured (dBFS)."""

    level_dbfs: float
    floor_dbfs: float

    @property
    def snr_db(self) -> float:
        return self.level_dbfs - self.floor_dbfs

    def describe(self) -> str:
        return f"speech at {self.level_dbfs:.0f} dBFS, {self.snr_db:.0f} dB over the floor"


class LevelMeter:
    """Feed every captured chunk; ask for the level of speech between two capture times."""

    def __init__(self, *, frame_ms: float = 20.0, rise_db_per_s: float = 1.0,
                 fall: float = 0.2, percentile: float = 90.0, lookback_s: float = 2.0) -> None:
        if frame_ms <= 0 or rise_db_per_s < 0 or not 0 < fall <= 1 or lookback_s < 0:
            raise ValueError("frame_ms must be > 0, rise_db_per_s >= 0, 0 < fall <= 1, "
                             "lookback_s >= 0")
        self.frame_ms = frame_ms
        self.percentile = percentile
        self.lookback_ns = int(lookback_s * _NS_PER_S)
        self._floor = FloorTracker(rise_db_per_s=rise_db_per_s, fall=fall)
        self._recent: deque[tuple[int, float]] = deque()  # (frame start ns, dBFS)
        self._segment: deque[tuple[int, float]] | None = None  # the speech under way's frames
        self._segment_frames = max(1, round(SEGMENT_MAX_S * 1000 / frame_ms))
        self._segment_start_ns = 0
        self._segment_floor = 0.0  # the floor before the speech began (speech lifts it a little)
        self._measured = True  # the speech under way's level was told (measured())
        self._heard_until_ns = 0  # the end of the last frame fed

    @property
    def floor_dbfs(self) -> float | None:
        """The room's noise floor (None until the first frame)."""
        return self._floor.dbfs

    def reset(self) -> None:
        """The stream was interrupted (mute): forget the speech under way, keep the floor."""
        self._recent.clear()
        self._segment = None

    def feed(self, chunk: AudioChunk) -> None:
        pcm = to_pcm16_mono(chunk, what="level meter input")
        samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
        if not len(samples):
            return
        per_frame = max(1, round(pcm.sample_rate * self.frame_ms / 1000))
        for offset in range(0, len(samples), per_frame):
            frame = samples[offset:offset + per_frame]
            at_ns = pcm.captured_at_ns + offset * _NS_PER_S // pcm.sample_rate
            self._add(at_ns, frame_dbfs(frame), len(frame) / pcm.sample_rate)

    def begin(self, since_ns: int) -> SpeechLevel | None:
        """Speech started at ``since_ns``: its level so far (the onset); None if unheard."""
        self._segment = deque(((at_ns, db) for at_ns, db in self._recent if at_ns >= since_ns),
                              maxlen=self._segment_frames)
        self._segment_start_ns = since_ns
        self._measured = False
        if self.floor_dbfs is not None:
            self._segment_floor = self.floor_dbfs
        return self._level([db for _, db in self._segment])

    def measured(self) -> SpeechLevel | None:
        """Once per speech, when it has lasted ``MEASURED_AFTER_MS``: its level so far."""
        segment = self._segment
        if segment is None or self._measured or self._heard_until_ns - \
                self._segment_start_ns < MEASURED_AFTER_MS * 1_000_000:
            return None
        self._measured = True
        return self._level([db for _, db in segment])

    def end(self, until_ns: int) -> SpeechLevel | None:
        """The speech under way ended at ``until_ns``: its level over all of it (None if
        none was begun; the silence that confirmed its end is left out)."""
        segment, self._segment = self._segment, None
        if segment is None:
            return None
        return self._level([db for at_ns, db in segment if at_ns < until_ns])

    def _add(self, at_ns: int, db: float, seconds: float) -> None:
        self._floor.update(db, seconds)
        self._recent.append((at_ns, db))
        self._heard_until_ns = at_ns + int(seconds * _NS_PER_S)
        while self._recent and at_ns - self._recent[0][0] > self.lookback_ns:
            self._recent.popleft()
        if self._segment is not None and at_ns >= self._segment_start_ns:
            self._segment.append((at_ns, db))

    def _level(self, frames: list[float]) -> SpeechLevel | None:
        if not frames or self.floor_dbfs is None:
            return None
        level = float(np.percentile(frames, self.percentile))
        return SpeechLevel(round(level, 1), round(min(self._segment_floor, self.floor_dbfs), 1))


def with_levels(meter: LevelMeter | None,
                events: Iterable[VadEvent]) -> list[tuple[VadEvent, SpeechLevel | None]]:
    """Each speech event with its level: a start's onset, a stop's whole stretch of speech
    (feed the meter the chunk first: the events may end in it)."""
    if meter is None:
        return [(event, None) for event in events]
    return [(event, meter.begin(event.at_ns) if isinstance(event, SpeechStarted)
             else meter.end(event.at_ns)) for event in events]

