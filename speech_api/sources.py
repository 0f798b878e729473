"""Audio sources: where live audio for ``transcribe_realtime`` comes from.

An audio source is anything that is an async iterator of :class:`AudioChunk`
(``AsyncIterable[AudioChunk]``). Two ready-made ones: a file played out in
frames (optionally paced in real time) and a bridge from any blocking iterator
of chunks, such as a live capture driver.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from pathlib import Path

from speech_api.audio import AudioChunk, load_audio
from speech_api.bridge import iterate_in_thread

AudioSource = AsyncIterable[AudioChunk]


class FileAudioSource:
    """Frames of an audio file (WAV/FLAC/OGG/MP3) as an async source.

    With ``realtime=True`` frames are released at the pace they would be captured,
    which is how a microphone behaves; otherwise as fast as the consumer takes them.
    Capture timestamps are stamped when each frame is released.
    """

    def __init__(
        self, path: str | Path, *, frame_ms: float = 20.0, realtime: bool = False
    ) -> None:
        self._chunk = load_audio(path)
        self._frame_ms = frame_ms
        self._realtime = realtime

    @property
    def audio(self) -> AudioChunk:
        return self._chunk

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        start = time.monotonic()
        played_ms = 0.0
        for frame in self._chunk.split(self._frame_ms):
            if self._realtime:
                delay = start + played_ms / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield AudioChunk.pcm(
                frame.data, frame.sample_rate, frame.channels, frame.bit_depth
            )
            played_ms += frame.duration_ms or 0.0


class ChunkListSource:
    """A fixed list of chunks as an async source (tests, pre-recorded input)."""

    def __init__(self, chunks: list[AudioChunk]) -> None:
        self._chunks = list(chunks)

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
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
