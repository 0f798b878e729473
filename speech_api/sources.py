"""Audio sources: where live audio for ``transcribe_realtime`` and the voice agents comes from.

An audio source is anything that is an async iterator of :class:`AudioChunk`
(``AsyncIterable[AudioChunk]``). Ready-made ones: a file played out as a
microphone would deliver it (:class:`FileAudioSource`, also usable from a
thread), a fixed list of chunks, and a bridge from any blocking iterator of
chunks such as a live capture driver (``drivers.alsa_source`` builds the ALSA
microphone on it).

Every chunk a file source yields carries its capture time on the *audio* clock
(the start plus its offset in the file), paced or not, so a consumer that reads
time from the chunks (voice activity detection, prefix padding, trimming) sees
the same audio either way.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from pathlib import Path

from speech_api.audio import AudioChunk, load_audio
from speech_api.bridge import iterate_in_thread
from speech_api.errors import AudioError

AudioSource = AsyncIterable[AudioChunk]


class FileAudioSource:
    """An audio file (WAV/FLAC/OGG/MP3), or decoded audio, as a microphone.

    Frames of ``frame_ms`` are released as fast as the consumer takes them, or
    with ``realtime=True`` at the pace a microphone captures them (each once it is
    "recorded"). ``trailing_silence_s`` appends silence (``math.inf``: silence until
    the consumer stops), as a microphone goes on after the speaker stops.
    Iterate it with ``async for``, or with :meth:`blocking` from a thread.
    Raises :class:`AudioError` for a file it cannot read.
    """

    def __init__(
        self,
        path: str | Path | AudioChunk,
        *,
        frame_ms: float = 20.0,
        realtime: bool = False,
        trailing_silence_s: float = 0.0,
    ) -> None:
        if frame_ms <= 0 or trailing_silence_s < 0:
            raise AudioError(
                f"frame_ms must be > 0 and trailing_silence_s >= 0, got {frame_ms}, "
                f"{trailing_silence_s}"
            )
        self._chunk = path.to_pcm() if isinstance(path, AudioChunk) else load_audio(path)
        self.frame_ms = frame_ms
        self.realtime = realtime
        self.trailing_silence_s = trailing_silence_s

    @property
    def audio(self) -> AudioChunk:
        return self._chunk

    @property
    def paced(self) -> bool:
        """True when frames come at capture pace (a consumer need not hold any back)."""
        return self.realtime

    def frames(self, start_ns: int | None = None) -> Iterator[tuple[float, AudioChunk]]:
        """``(offset_s, frame)`` pairs, unpaced: the frame's start in the audio, and the
        frame stamped with capture time ``start_ns`` + that offset."""
        start_ns = time.monotonic_ns() if start_ns is None else start_ns
        audio = self._chunk
        rate = audio.sample_rate
        done = 0  # frames (samples per channel) released so far: exact, no float drift
        for piece in audio.split(self.frame_ms):
            yield done / rate, self._stamped(piece.data, start_ns + done * 1_000_000_000 // rate)
            done += piece.frames
        # Trailing silence, in frames of the same size (the last may be shorter).
        step = max(1, int(rate * self.frame_ms / 1000))
        left = math.inf if math.isinf(self.trailing_silence_s) else round(
            self.trailing_silence_s * rate)
        while left > 0:
            count = int(min(step, left))
            silence = bytes(count * audio.frame_bytes)
            yield done / rate, self._stamped(silence, start_ns + done * 1_000_000_000 // rate)
            done += count
            left -= count

    def _stamped(self, data: bytes, captured_at_ns: int) -> AudioChunk:
        audio = self._chunk
        return AudioChunk.pcm(data, audio.sample_rate, audio.channels, audio.bit_depth,
                              captured_at_ns=captured_at_ns)

    def blocking(self, stop: threading.Event | None = None) -> Iterator[AudioChunk]:
        """The frames as a blocking iterator (paced if ``realtime``); ends when ``stop`` is set."""
        stop = stop or threading.Event()
        start_s, start_ns = time.monotonic(), time.monotonic_ns()
        for offset_s, frame in self.frames(start_ns):
            if self.realtime:
                due = start_s + offset_s + (frame.duration_ms or 0.0) / 1000
                if stop.wait(max(0.0, due - time.monotonic())):
                    return
            elif stop.is_set():
                return
            yield frame

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        import asyncio  # only the async face needs it (see speech_api.bridge)

        start_s, start_ns = time.monotonic(), time.monotonic_ns()
        for offset_s, frame in self.frames(start_ns):
            if self.realtime:
                due = start_s + offset_s + (frame.duration_ms or 0.0) / 1000
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            yield frame


class ChunkListSource:
    """A fixed list of chunks as an async source (tests, pre-recorded input)."""

    def __init__(self, chunks: list[AudioChunk]) -> None:
        self._chunks = list(chunks)

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        import asyncio

        for chunk in self._chunks:
            yield chunk
            await asyncio.sleep(0)


class ThreadedAudioSource:
    """Any blocking iterator of chunks (e.g. a live ALSA capture) as an async source.

    ``make_iterator`` is called in a worker thread when iteration starts; stopping
    the ``async for`` closes the iterator there.
    """

    def __init__(self, make_iterator: Callable[[], Iterator[AudioChunk]]) -> None:
        self._make_iterator = make_iterator

    def __aiter__(self) -> AsyncIterator[AudioChunk]:
        return iterate_in_thread(self._make_iterator)
