"""When captured audio was heard: times that follow the samples, not the reads.

A capture read returns when the thread gets to it: on a loaded machine (a Pi Zero
with the decoder busy) several periods wait in the device's buffer and then come
back to back. Stamping each read with "now" would squeeze those periods into a few
milliseconds, and everything that slices audio by time (a turn's pre-roll, the end
of an utterance, a barge-in onset) would cut the wrong samples. So the first read
anchors the stream and every later period starts where the one before ended.

Two corrections keep the anchor honest against the monotonic clock:

- a period cannot end after its read returned: if it would (the anchor was taken
  late, or the device clock runs fast), the stream is re-anchored on that read;
- the smallest lag seen over a window of reads is how far behind the stamps run
  even when the reader was prompt: beyond ``slack`` (a device clock running slow,
  by parts per million, for days), the stream catches up by it.

A gap in the samples (an overrun, a reopened device) calls :meth:`restart`.
"""

from __future__ import annotations

_NS = 1_000_000_000
_UNSEEN = 1 << 62  # the window's smallest lag before its first read


class CaptureClock:
    """Capture times (monotonic ns) for consecutive reads of one stream."""

    def __init__(self, rate: int, *, slack_ns: int = 40_000_000,
                 window_ns: int = 5 * _NS) -> None:
        self.rate = rate
        self.slack_ns = slack_ns
        self.window_ns = window_ns
        self.corrections = 0  # how often the stamps were moved (for diagnostics)
        self._next_ns: int | None = None  # where the next read's first sample falls
        self._samples = 0  # since the anchor: times are computed, never summed in ns
        self._anchor_ns = 0
        self._window_start_ns = 0
        self._min_lag_ns = _UNSEEN

    def restart(self) -> None:
        """The stream skipped samples (overrun) or began again: anchor on the next read."""
        self._next_ns = None

    def stamp(self, frames: int, returned_at_ns: int) -> int:
        """The capture time of the first of ``frames`` samples a read returned at
        ``returned_at_ns``."""
        duration = frames * _NS // self.rate
        if self._next_ns is None or self._next_ns + duration > returned_at_ns:
            if self._next_ns is not None:
                self.corrections += 1
            self._anchor(returned_at_ns - duration, returned_at_ns)
        start = self._next_ns
        assert start is not None
        self._samples += frames
        self._next_ns = self._anchor_ns + self._samples * _NS // self.rate
        lag = returned_at_ns - self._next_ns
        self._min_lag_ns = min(self._min_lag_ns, lag)
        if returned_at_ns - self._window_start_ns >= self.window_ns:
            if self._min_lag_ns > self.slack_ns:
                self.corrections += 1
                self._anchor(self._next_ns + self._min_lag_ns, returned_at_ns)
            else:
                self._window_start_ns, self._min_lag_ns = returned_at_ns, _UNSEEN
        return start

    def _anchor(self, next_ns: int, now_ns: int) -> None:
        self._anchor_ns, self._samples, self._next_ns = next_ns, 0, next_ns
        self._window_start_ns, self._min_lag_ns = now_ns, _UNSEEN
