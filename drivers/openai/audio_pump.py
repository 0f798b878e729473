"""Send microphone audio on its own thread, so a stalled link never blocks the caller.

The hub's Session actor hands every 20 ms of audio to the realtime session; a
socket write that stalls (Wi-Fi fading, a full send buffer) would hold the actor
and everything queued behind it. The pump takes the frame and returns at once.
It is bounded: when the link falls behind by more than ``max_frames``, the oldest
frames are dropped (stale speech is worth less than fresh) and counted.
Control frames stay synchronous for their caller; :meth:`drain` lets them wait
for the audio before them, so the wire order is what the caller did.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class AudioPump:
    def __init__(self, send: Callable[[bytes], None], *, max_frames: int = 250,
                 name: str = "openai-audio-pump") -> None:
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self._send = send
        self._frames: collections.deque[bytes] = collections.deque()
        self._max_frames = max_frames
        self._cond = threading.Condition()
        self._busy = False  # a frame is being written right now
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.dropped = 0

    def start(self) -> None:
        self._thread.start()

    def put(self, pcm: bytes) -> None:
        """Queue one frame; never blocks."""
        with self._cond:
            if self._closed:
                return
            self._frames.append(pcm)
            while len(self._frames) > self._max_frames:
                self._frames.popleft()
                self.dropped += 1
                if self.dropped in (1, 10) or self.dropped % 500 == 0:
                    log.warning("realtime link is behind: %d audio frames dropped", self.dropped)
            self._cond.notify()

    def wait_below(self, frames: int, timeout: float) -> bool:
        """Wait until fewer than ``frames`` wait to be written (back-pressure for a
        caller that has the audio already, e.g. a file); False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: len(self._frames) < frames or self._closed, timeout)

    def drain(self, timeout: float) -> bool:
        """Wait until every queued frame was written; on timeout drop the rest (False)."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._frames and not self._busy, timeout):
                self.dropped += len(self._frames)
                self._frames.clear()
                return False
        return True

    def stop(self) -> None:
        """Take no more frames and drop the queued ones; an idle pump thread ends now,
        one inside a write ends when that write returns (close the socket to make it)."""
        with self._cond:
            self._closed = True
            self._frames.clear()
            self._cond.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait for the pump thread to end; False if it is still inside a write."""
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self, timeout: float = 2.0) -> None:
        self.stop()
        self.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()  # drain() waiters
                self._cond.wait_for(lambda: self._frames or self._closed)
                if self._closed:
                    return
                pcm = self._frames.popleft()
                self._busy = True
            try:
                self._send(pcm)
            except Exception:
                log.exception("sending realtime audio failed")
