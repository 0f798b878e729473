"""Audio sinks: where a voice agent's spoken answer goes.

A sink plays PCM :class:`AudioChunk` s tagged with the answer item they belong to
and knows how much of each item the listener has actually heard: barge-in
(:meth:`AudioSink.flush`) stops the sound at once and reports it, so a realtime
provider can be told to truncate its answer to what was heard. Ready-made sinks:
:class:`WavFileSink` (the answer into a WAV file) and :class:`MemorySink` (the
chunks in a list); ``drivers.alsa_speaker.AlsaSpeaker`` plays on a sound card.
"""

from __future__ import annotations

import threading
import wave
from abc import ABC, abstractmethod
from pathlib import Path

from speech_api.audio import AudioChunk
from speech_api.errors import AudioError


class AudioSink(ABC):
    """An async sink for PCM16 answer audio; every method may be called from one event loop."""

    @abstractmethod
    async def play(self, chunk: AudioChunk, item_id: str = "") -> None:
        """Queue ``chunk`` (PCM16) for playback; returns without waiting for it to be heard."""

    @abstractmethod
    async def flush(self) -> dict[str, int]:
        """Barge-in: stop now, drop what is queued; milliseconds heard of each item."""

    @abstractmethod
    async def drain(self, timeout: float = 60.0) -> bool:
        """Wait until everything queued was heard; False if ``timeout`` passed first."""

    @abstractmethod
    def played_ms(self, item_id: str) -> int:
        """Milliseconds of ``item_id`` heard so far (the played position)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the device or file; idempotent."""


class MemorySink(AudioSink):
    """Keeps every chunk; everything counts as heard at once (tests, post-processing)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, AudioChunk]] = []
        self._played: dict[str, float] = {}
        self._lock = threading.Lock()

    async def play(self, chunk: AudioChunk, item_id: str = "") -> None:
        pcm = _require_pcm16(chunk, "MemorySink")
        with self._lock:
            self.chunks.append((item_id, pcm))
            self._played[item_id] = self._played.get(item_id, 0.0) + (pcm.duration_ms or 0.0)

    async def flush(self) -> dict[str, int]:
        with self._lock:
            return {item: int(ms) for item, ms in self._played.items()}

    async def drain(self, timeout: float = 60.0) -> bool:
        return True

    def played_ms(self, item_id: str) -> int:
        with self._lock:
            return int(self._played.get(item_id, 0.0))

    async def close(self) -> None:
        pass

    @property
    def pcm(self) -> bytes:
        with self._lock:
            return b"".join(chunk.data for _, chunk in self.chunks)


class WavFileSink(MemorySink):
    """Writes the answer to a 16-bit WAV at the rate of the first chunk, on :meth:`close`.

    Every chunk must share that rate and channel count (:class:`AudioError` otherwise).
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._closed = False

    async def play(self, chunk: AudioChunk, item_id: str = "") -> None:
        first = self.chunks[0][1] if self.chunks else None
        if first is not None and (chunk.sample_rate, chunk.channels) != (
                first.sample_rate, first.channels):
            raise AudioError(
                f"{self.path}: chunk at {chunk.sample_rate} Hz/{chunk.channels} ch, the file is "
                f"{first.sample_rate} Hz/{first.channels} ch")
        await super().play(chunk, item_id)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        first = self.chunks[0][1] if self.chunks else AudioChunk.pcm(b"", 16000)
        try:
            with wave.open(str(self.path), "wb") as wav:
                wav.setnchannels(first.channels)
                wav.setsampwidth(2)
                wav.setframerate(first.sample_rate)
                wav.writeframes(self.pcm)
        except OSError as exc:
            raise AudioError(f"{self.path}: cannot write WAV: {exc.strerror or exc}") from exc

    @property
    def duration_ms(self) -> float:
        with self._lock:
            return sum(chunk.duration_ms or 0.0 for _, chunk in self.chunks)


def _require_pcm16(chunk: AudioChunk, who: str) -> AudioChunk:
    if not chunk.is_pcm or chunk.bit_depth != 16:
        raise AudioError(f"{who} plays 16-bit PCM, got {chunk.format.value} {chunk.bit_depth} bit")
    return chunk
