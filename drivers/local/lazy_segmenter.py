"""The speech segmenter built at the first chunk it is fed, not when the Listener starts.

Building it imports the VAD engine (``webrtcvad`` looks up its own version in the
installed packages' metadata at import: 15-25 ms), which the hub's start (READY within
0.3 s) need not wait for: the Listener feeds its first chunk only after READY, and that
chunk builds the segmenter and is then fed to it, so nothing is lost or late.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from drivers.local.segmenter import VadEvent
    from speech_api import AudioChunk


class Segmenter(Protocol):
    def feed(self, chunk: AudioChunk) -> list[VadEvent]: ...

    def reset(self) -> None: ...


class LazySegmenter:
    def __init__(self, make: Callable[[], Segmenter]) -> None:
        self._make = make
        self._segmenter: Segmenter | None = None

    @property
    def built(self) -> bool:
        return self._segmenter is not None

    def segmenter(self) -> Segmenter:
        if self._segmenter is None:
            self._segmenter = self._make()
        return self._segmenter

    def feed(self, chunk: AudioChunk) -> list[VadEvent]:
        return self.segmenter().feed(chunk)

    def reset(self) -> None:
        if self._segmenter is not None:  # one never fed has nothing to forget
            self._segmenter.reset()

    def __getattr__(self, name: str) -> Any:  # anything else the real one offers
        return getattr(self.segmenter(), name)
