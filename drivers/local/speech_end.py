"""Where a stretch of speech really ends, by its energy.

A frame VAD keeps calling a word's fading tail speech (WebRTC: 100-150 ms after the
last frame a listener would count), so a turn's end measured from the VAD's last
speech frame comes that much late. :class:`EnergyEnd` keeps the level of the last
10 ms frames and, once the VAD has decided the speech is over, moves the end back to
the last frame that is still speech by energy: within ``below_peak_db`` of the speech's
recent peak AND ``above_floor_db`` over the room's noise floor. It only ever moves the
end earlier, by at most ``max_backdate_ms``, and never before the speech's start.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.local.energy import FloorTracker, frame_levels
from drivers.local.framing import to_pcm16_mono
from speech_api import AudioChunk

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

FRAME_MS = 10  # fine enough to place an end within a frame or two of the true one
BATCH_MS = 200  # audio measured at once (the end and `loud` measure what is pending first)
SOFT_START_MS = 300  # a word's soft start the VAD has not called speech yet lasts less
QUIET_FLOOR_DBFS = -70.0  # the quietest room floor assumed (a real mic's own noise)
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class EndRule:
    """The rule and its bounds, measured with tests/bench/bench_endpoint.py (flite's four
    voices and human recordings over digital silence and pink noise at -60/-55/-50 dBFS;
    the VAD's own end is 90 ms late at the median, 120 ms at p90; 10 of 108 two-sentence
    turns with a 300-600 ms pause ended in the pause, from the recordings' soft onsets):

    - ``above_floor_db`` 8 (the floor being the room noise's median 10 ms frame): median
      0 ms, p90 30 ms from the true end, 10 turns ended in a pause. 6 dB lets the room's
      louder noise frames pass for speech (p90 67 ms late); 10 dB ends more turns early
      (23 % of ends > 20 ms early, 11 turns in a pause), 15 dB 34 % and 15 turns;
    - ``below_peak_db`` 40: the speech end tests/bench/inputs.py counts (flite's tails
      fade to -60 dB); 30 dB ends early more often (29 %), 50 dB lets noise in (p90 67 ms);
    - ``max_backdate_ms`` 300: longer than the tails the VAD was measured to hear (one in
      ten > 120 ms; 150 ms gave the same figures), a bound should the rule misjudge;
    - ``peak_window_ms`` 1000: the peak is the last second's, so a softer last phrase is
      judged on its own loudness, not on a shout at the turn's start."""

    below_peak_db: float = 40.0
    above_floor_db: float = 8.0
    max_backdate_ms: float = 300.0
    peak_window_ms: float = 1000.0

    def __post_init__(self) -> None:
        for name in ("below_peak_db", "above_floor_db", "max_backdate_ms", "peak_window_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")


class EnergyEnd:
    """Feed every chunk the VAD sees; ask where speech that the VAD ended really ended.

    Levels are computed per ``BATCH_MS`` of audio, and whenever asked: one numpy call per
    batch instead of one per 20 ms chunk keeps idle listening cheap."""

    def __init__(self, rule: EndRule, *, keep_ms: float) -> None:
        self.rule = rule
        # 10 ms frames: half the level meter's 20 ms step down. Below the meter's -60 dBFS
        # minimum (a gated or very quiet mic) the peak's rule decides where a tail ends.
        self.floor = FloorTracker(fall=0.1, minimum_dbfs=QUIET_FLOOR_DBFS)
        # (frame start ns, frame end ns, dBFS): enough to look back over the VAD's
        # hangover plus the peak window
        self._frames: deque[tuple[int, int, float]] = deque(
            maxlen=max(1, round((keep_ms + rule.peak_window_ms + BATCH_MS) / FRAME_MS)))
        self._threshold: float | None = None  # the last ended speech's, for `loud`
        self._rate, self._per_frame = 0, 1
        self._pending = bytearray()  # audio not measured yet (frames counted from its start)
        self._pending_ns = 0  # the capture time of its first sample

    @property
    def loud(self) -> bool:
        """The latest frames are as loud as the last ended speech was by the rule, for
        less than ``SOFT_START_MS``: a next word's soft start (a fricative the VAD does not
        take for speech yet) is heard; a lasting sound the VAD rejects (a fan, music
        starting) is not a word and does not hold a turn open."""
        threshold = self._threshold
        if threshold is None:
            return False
        self._measure()
        run = 0
        for _start_ns, _end_ns, db in reversed(self._frames):
            if db < threshold:
                break
            run += 1
            if run * FRAME_MS >= SOFT_START_MS:
                return False
        return run > 0

    def reset(self) -> None:
        """The stream was interrupted: forget the frames, keep the room's floor."""
        self._frames.clear()
        self._threshold = None
        self._pending.clear()

    def feed(self, chunk: AudioChunk) -> None:
        pcm = to_pcm16_mono(chunk, what="speech end input")
        rate = pcm.sample_rate
        if rate != self._rate:
            self._measure()
            self._pending.clear()
            self._rate, self._per_frame = rate, max(1, rate // 100)
        expected_ns = self._pending_ns + len(self._pending) // 2 * _NS_PER_S // rate
        if not self._pending:
            self._pending_ns = pcm.captured_at_ns
        elif abs(pcm.captured_at_ns - expected_ns) > _NS_PER_S // 100:
            self._measure()  # a gap in the stream: frames restart at this chunk
            self._pending.clear()
            self._pending_ns = pcm.captured_at_ns
        self._pending += pcm.data
        if len(self._pending) >= 2 * rate * BATCH_MS // 1000:
            self._measure()

    def _measure(self) -> None:
        """Measure the pending audio's complete 10 ms frames."""
        frame_bytes = 2 * self._per_frame
        whole = len(self._pending) // frame_bytes * frame_bytes
        if not whole:
            return
        samples = np.frombuffer(bytes(self._pending[:whole]), dtype="<i2")
        del self._pending[:whole]
        rate, start_ns = self._rate, self._pending_ns
        frame_ns = self._per_frame * _NS_PER_S // rate
        self._pending_ns += whole // 2 * _NS_PER_S // rate
        levels = frame_levels(samples, self._per_frame)
        count = len(levels)
        # the floor follows each batch's median frame: 10 ms frames of room noise scatter
        # over +-8 dB, so following the quietest one would put the floor under the noise
        # and let its louder frames pass for speech
        self.floor.update(statistics.median(levels), count * FRAME_MS / 1000, frames=count)
        end_ns = start_ns + count * frame_ns
        self._frames.extend(zip(range(start_ns, end_ns, frame_ns),
                                range(start_ns + frame_ns, end_ns + frame_ns, frame_ns),
                                levels, strict=True))

    def end(self, vad_end_ns: int, start_ns: int) -> int:
        """Where speech from ``start_ns`` that the VAD heard until ``vad_end_ns`` ended."""
        self._measure()
        rule, floor = self.rule, self.floor.dbfs
        self._threshold = None
        frames = [f for f in self._frames if start_ns <= f[0] < vad_end_ns]
        recent = [db for at, _end, db in frames
                  if at >= vad_end_ns - rule.peak_window_ms * _NS_PER_MS]
        if floor is None or not recent:
            return vad_end_ns
        peak = max(recent)
        if peak < floor + rule.above_floor_db:
            return vad_end_ns  # speech as quiet as the room: its energy cannot tell
        threshold = max(peak - rule.below_peak_db, floor + rule.above_floor_db)
        self._threshold = threshold
        earliest = max(start_ns, vad_end_ns - round(rule.max_backdate_ms * _NS_PER_MS))
        for _start_ns, end_ns, db in reversed(frames):
            if end_ns <= earliest:
                break
            if db >= threshold:
                return min(vad_end_ns, end_ns)
        return earliest
