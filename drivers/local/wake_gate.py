"""Run the wake word detector only around speech, replaying what came just before it.

The detector (a neural network every 30 ms) is most of an idle hub's work, and a
quiet room is most of its day. A WebRTC VAD costs a twentieth of it, so the gate
asks the VAD first: while no frame sounds like speech the detector is not fed. When
one does, the detector starts afresh (``reset``) and gets the last ``preroll_ms`` of
audio before the live chunk, so a phrase whose first phoneme the VAD missed is still
heard whole; it then runs on every chunk until ``hold_ms`` pass without speech (the
pauses inside a phrase and its detection's lag stay well inside that).

Chunks keep their capture stamps, so a detection found in the replay carries the
time of the audio it was found in, as without the gate.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from drivers.local.vad import Vad
from drivers.local.wakeword import WakeDetection
from speech_api import AudioChunk

_NS_PER_MS = 1_000_000


class GatedDetector(Protocol):
    @property
    def alert(self) -> bool: ...

    def process(self, chunk: AudioChunk) -> WakeDetection | None: ...

    def reset(self) -> None: ...


class VadGatedWakeWord:
    """A wake word detector behind a VAD: see the module doc."""

    def __init__(self, detector: GatedDetector, vad: Vad, *, preroll_ms: float = 1000.0,
                 hold_ms: float = 1500.0) -> None:
        if preroll_ms < 0 or hold_ms < 0:
            raise ValueError(f"preroll_ms and hold_ms must not be negative: {preroll_ms}, "
                             f"{hold_ms}")
        self.detector = detector
        self.vad = vad
        self.preroll_ns = int(preroll_ms * _NS_PER_MS)
        self.hold_ns = int(hold_ms * _NS_PER_MS)
        self.running = False  # the detector is being fed
        self._ring: deque[AudioChunk] = deque()
        self._open_until_ns = 0

    @property
    def alert(self) -> bool:
        return self.running and self.detector.alert

    def process(self, chunk: AudioChunk) -> WakeDetection | None:
        end_ns = _end_ns(chunk)
        if any(speech for _at, speech in self.vad.classify(chunk)):
            self._open_until_ns = end_ns + self.hold_ns
        if self.running:
            self.running = end_ns <= self._open_until_ns
            found = self.detector.process(chunk)
            self._keep(chunk)
            return found
        self._keep(chunk)
        if end_ns > self._open_until_ns:
            return None
        self.running = True
        self.detector.reset()  # what it heard before the gate closed is long past
        found = None
        for earlier in self._ring:  # ends with ``chunk``
            heard = self.detector.process(earlier)
            if found is None:
                found = heard
        return found

    def reset(self) -> None:
        self.detector.reset()
        self.vad.reset()
        self._ring.clear()
        self.running = False
        self._open_until_ns = 0

    def close(self) -> None:
        close = getattr(self.detector, "close", None)
        if callable(close):
            close()

    def _keep(self, chunk: AudioChunk) -> None:
        ring = self._ring
        ring.append(chunk)
        while ring and _end_ns(chunk) - ring[0].captured_at_ns > self.preroll_ns:
            ring.popleft()


def _end_ns(chunk: AudioChunk) -> int:
    return chunk.captured_at_ns + int((chunk.duration_ms or 0.0) * _NS_PER_MS)
