"""Emit a spoken reply as the provider-neutral events an online engine would send.

Local, chained and announcement replies all go out as ``ResponseStarted``, one
``AudioDelta`` per audio piece, ``TranscriptDelta`` per spoken text piece and
``ResponseDone``, so the Session actor keeps the same books for every mode.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable

from actors.engine import Emit
from speech_api import AudioChunk
from speech_api.events import AudioDelta, ResponseDone, ResponseStarted, TranscriptDelta

EarconRenderer = Callable[[str], AudioChunk | None]  # Earcon member name -> sound


def no_earcons(_kind: str) -> AudioChunk | None:
    return None


def earcon_at(render: EarconRenderer, kind: str, rate: int) -> AudioChunk | None:
    """The earcon ``kind`` ("timer", "MUTED", ...) at ``rate``, to lead a reply's audio."""
    sound = render(kind.upper())
    if sound is None or sound.sample_rate == rate:
        return sound
    from drivers.resample import resample_chunk

    return resample_chunk(sound, rate)


class ReplyCancelledError(Exception):
    """The reply being spoken was interrupted (barge-in)."""


class Reply:
    """One response: ids, the text spoken so far, and whether it was interrupted."""

    def __init__(self, emit: Emit, response_id: str, cancelled: Callable[[], bool]) -> None:
        self.emit = emit
        self.response_id = response_id
        self._items = 1
        self.item_id = f"{response_id}-item-1"
        self._cancelled = cancelled
        self.spoken: list[str] = []
        self.audio_ms = 0.0
        self.started = False

    def _start(self) -> None:
        """``ResponseStarted`` goes out with the first words, not before: until then a
        failed turn can still be answered by someone else (the offline fallback)."""
        if not self.started:
            self.started = True
            self.emit(ResponseStarted(response_id=self.response_id))

    @property
    def cancelled(self) -> bool:
        return self._cancelled()

    def check(self) -> None:
        if self._cancelled():
            raise ReplyCancelledError(self.response_id)

    def next_item(self) -> None:
        """Later audio is a new item (one per sentence: each is played, and its
        playback accounted, on its own, even with a pause before the next)."""
        if self.audio_ms:
            self._items += 1
            self.item_id = f"{self.response_id}-item-{self._items}"

    def audio(self, chunks: Iterable[AudioChunk]) -> None:
        """Emit each chunk as it is produced; stop (closing the source) when interrupted."""
        try:
            for chunk in chunks:
                self.check()
                self._start()
                self.audio_ms += chunk.duration_ms or 0.0
                self.emit(AudioDelta(response_id=self.response_id, item_id=self.item_id,
                                     content_index=0, pcm=chunk.data,
                                     sample_rate=chunk.sample_rate))
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()  # a generator: ends the synthesis (e.g. closes its HTTP stream)

    def text(self, words: str) -> None:
        self._start()
        self.spoken.append(words)
        self.emit(TranscriptDelta(response_id=self.response_id, item_id=self.item_id,
                                  delta=words))

    def done(self, status: str = "completed") -> None:
        if self.cancelled:
            status = "cancelled"
        self.emit(ResponseDone(response_id=self.response_id, status=status,
                               transcript=" ".join(self.spoken)))


class ReplyFactory:
    """Response ids unique per engine, and the interruption generation they belong to."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._generation = 0

    def interrupt(self) -> None:
        """Every reply started before now counts as cancelled."""
        with self._lock:
            self._generation += 1

    def start(self, emit: Emit) -> Reply:
        with self._lock:
            generation = self._generation
            number = next(self._ids)
        return Reply(emit, f"{self._prefix}-resp-{number}",
                     lambda: self._generation != generation)
