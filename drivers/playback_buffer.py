"""Bookkeeping for playback: the bounded queue of items, the ledger of what the device
got, and the wall clock that paces devices which swallow audio instantly.

None of these classes lock: :class:`drivers.alsa_playback.AlsaPlayback` holds its lock
around every call. Sizes are in frames of the device's format.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class _Segment:
    item_id: str
    data: bytes
    offset: int = 0  # bytes of data already popped


class PlaybackQueue:
    """FIFO of (item id, PCM) bounded to ``max_frames``; when full the oldest audio goes."""

    def __init__(self, frame_bytes: int, max_frames: int) -> None:
        if max_frames <= 0:
            raise ValueError(f"playback buffer must hold at least one frame, got {max_frames}")
        self.frame_bytes = frame_bytes
        self.max_frames = max_frames
        self._segments: deque[_Segment] = deque()
        self._bytes = 0

    @property
    def frames(self) -> int:
        return self._bytes // self.frame_bytes

    def item_ids(self) -> list[str]:
        """Ids with audio still queued, oldest first, each once."""
        return list(dict.fromkeys(s.item_id for s in self._segments))

    def push(self, item_id: str, data: bytes) -> int:
        """Append; returns how many frames of the oldest audio were dropped to make room."""
        if not data:
            return 0
        max_bytes = self.max_frames * self.frame_bytes
        if len(data) > max_bytes:  # a single huge chunk: keep only its newest part
            dropped = (len(data) - max_bytes) // self.frame_bytes
            dropped += self.frames
            self._segments.clear()
            self._segments.append(_Segment(item_id, data[-max_bytes:]))
            self._bytes = max_bytes
            return dropped
        excess = self._bytes + len(data) - max_bytes
        dropped_bytes = 0
        while excess > 0:
            head = self._segments[0]
            left = len(head.data) - head.offset
            take = min(left, excess)
            head.offset += take
            excess -= take
            dropped_bytes += take
            if head.offset == len(head.data):
                self._segments.popleft()
        self._bytes -= dropped_bytes
        self._segments.append(_Segment(item_id, data))
        self._bytes += len(data)
        return dropped_bytes // self.frame_bytes

    def pop(self, max_frames: int) -> tuple[bytes, list[tuple[str, int]]]:
        """Up to ``max_frames`` frames, and which items they belong to (in order)."""
        want = max_frames * self.frame_bytes
        pieces: list[bytes] = []
        parts: list[tuple[str, int]] = []
        while want > 0 and self._segments:
            head = self._segments[0]
            piece = head.data[head.offset : head.offset + want]
            head.offset += len(piece)
            want -= len(piece)
            pieces.append(piece)
            frames = len(piece) // self.frame_bytes
            if parts and parts[-1][0] == head.item_id:
                parts[-1] = (head.item_id, parts[-1][1] + frames)
            else:
                parts.append((head.item_id, frames))
            if head.offset == len(head.data):
                self._segments.popleft()
        data = b"".join(pieces)
        self._bytes -= len(data)
        return data, parts

    def clear(self) -> list[str]:
        """Forget everything queued; returns the ids that had audio waiting."""
        ids = self.item_ids()
        self._segments.clear()
        self._bytes = 0
        return ids


class DeviceLedger:
    """Frames written to the device per item, and which item the device's tail holds.

    ``played(buffered)`` = written minus the last ``buffered`` frames (still in the
    device, not yet heard), attributed to the items that wrote them.
    """

    def __init__(self, keep_frames: int) -> None:
        self.keep_frames = keep_frames  # the device buffer size: older writes are surely played
        self._written: dict[str, int] = {}
        self._recent: deque[tuple[str, int]] = deque()
        self._recent_frames = 0

    def record(self, parts: list[tuple[str, int]]) -> None:
        for item_id, frames in parts:
            self._written[item_id] = self._written.get(item_id, 0) + frames
            self._recent.append((item_id, frames))
            self._recent_frames += frames
        while self._recent and self._recent_frames - self._recent[0][1] >= self.keep_frames:
            self._recent_frames -= self._recent.popleft()[1]

    def played(self, buffered_frames: int) -> dict[str, int]:
        """Frames heard per item, given how many frames the device still holds."""
        played = dict(self._written)
        unheard = max(0, min(buffered_frames, self.keep_frames, self._recent_frames))
        for item_id, frames in reversed(self._recent):
            if unheard <= 0:
                break
            take = min(frames, unheard)
            played[item_id] -= take
            unheard -= take
        return played

    def reset(self) -> None:
        self._written.clear()
        self._recent.clear()
        self._recent_frames = 0


class WallClock:
    """How far written audio runs ahead of real time, for devices that do not buffer
    (the file/null plugins): counted from when playback last (re)started."""

    def __init__(self) -> None:
        self._anchor_ns = 0
        self._frames = 0  # written since the anchor

    def ahead(self, rate: int) -> int:
        elapsed = (time.monotonic_ns() - self._anchor_ns) * rate // 1_000_000_000
        return max(0, self._frames - elapsed)

    def wrote(self, frames: int, rate: int, at_ns: int) -> None:
        if self._frames <= 0 or self.ahead(rate) <= 0:
            self._anchor_ns, self._frames = at_ns, 0  # we were idle or late: start again now
        self._frames += frames

    def reset(self) -> None:
        self._frames = 0
