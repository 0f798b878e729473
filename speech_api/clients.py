"""The seed's client interfaces, and base classes that derive them from sync code.

Providers implement the blocking methods of :class:`BlockingSpeechToTextClient` /
:class:`BlockingTextToSpeechClient` once; the async methods the seed specifies
(``await transcribe``, ``async for ... in transcribe_stream``) come from the
bridge. The hub's actors call the blocking methods from their own threads.

Reading of the seed (documented in the README): ``transcribe_realtime`` takes
``(audio_source, config)`` as the seed's examples do (its API reference lists
``language``/``prompt``; those now live in :class:`RealtimeSessionConfig`), and
streams :class:`TranscriptionEvent` rather than bare strings. ``synthesize_stream``
yields PCM :class:`AudioChunk` objects, which carry their sample rate, rather
than bare bytes whose rate the caller would have to guess.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from speech_api.audio import AudioChunk, AudioFormat
from speech_api.bridge import iterate_from_thread, iterate_in_thread, run_blocking
from speech_api.events import RealtimeSessionConfig, TranscriptionEvent
from speech_api.sources import AudioSource

if TYPE_CHECKING:
    import asyncio  # imported where used: see speech_api.bridge

SOURCE_READ_TIMEOUT_S = 30.0


class SpeechToTextClient(ABC):
    """Speech-to-text in batch, streaming and realtime modes."""

    @abstractmethod
    async def transcribe(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str:
        """Transcribe complete audio to text."""

    @abstractmethod
    def transcribe_stream(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> AsyncIterator[str]:
        """Transcribe complete audio, yielding partial results as they firm up."""

    @abstractmethod
    def transcribe_realtime(
        self, audio_source: AudioSource, config: RealtimeSessionConfig | None = None
    ) -> AsyncIterator[TranscriptionEvent]:
        """Transcribe live audio, yielding partial and final events."""

    @abstractmethod
    async def get_supported_languages(self) -> list[str]:
        """ISO-639-1 codes this client can transcribe."""


class TextToSpeechClient(ABC):
    """Text-to-speech in batch and streaming modes."""

    @abstractmethod
    async def synthesize(
        self,
        text: str,
        voice_id: str | None = None,
        language: str | None = None,
        audio_format: AudioFormat = AudioFormat.WAV,
    ) -> bytes:
        """Convert text to a complete audio file in ``audio_format``."""

    @abstractmethod
    def synthesize_stream(
        self, text: str, voice_id: str | None = None, language: str | None = None
    ) -> AsyncIterator[AudioChunk]:
        """Convert text to PCM chunks, yielded as soon as each is ready."""

    @abstractmethod
    async def get_available_voices(self) -> list[str]:
        """Voice ids accepted by ``voice_id``."""


class BlockingSpeechToTextClient(SpeechToTextClient):
    """A :class:`SpeechToTextClient` written as blocking code; async face derived."""

    @abstractmethod
    def transcribe_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str: ...

    @abstractmethod
    def transcribe_stream_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> Iterator[str]: ...

    @abstractmethod
    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]: ...

    @abstractmethod
    def supported_languages(self) -> list[str]: ...

    async def transcribe(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str:
        return await run_blocking(lambda: self.transcribe_blocking(audio, language, prompt))

    def transcribe_stream(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> AsyncIterator[str]:
        return iterate_in_thread(lambda: self.transcribe_stream_blocking(audio, language, prompt))

    async def transcribe_realtime(
        self, audio_source: AudioSource, config: RealtimeSessionConfig | None = None
    ) -> AsyncIterator[TranscriptionEvent]:
        import asyncio

        loop = asyncio.get_running_loop()
        chunks = pull_from_async(audio_source, loop)
        async for event in iterate_in_thread(
            lambda: self.transcribe_realtime_blocking(chunks, config)
        ):
            yield event

    async def get_supported_languages(self) -> list[str]:
        return self.supported_languages()


class BlockingTextToSpeechClient(TextToSpeechClient):
    """A :class:`TextToSpeechClient` written as blocking code; async face derived."""

    @abstractmethod
    def synthesize_blocking(
        self,
        text: str,
        voice_id: str | None = None,
        language: str | None = None,
        audio_format: AudioFormat = AudioFormat.WAV,
    ) -> bytes: ...

    @abstractmethod
    def synthesize_stream_blocking(
        self, text: str, voice_id: str | None = None, language: str | None = None
    ) -> Iterator[AudioChunk]: ...

    @abstractmethod
    def available_voices(self) -> list[str]: ...

    async def synthesize(
        self,
        text: str,
        voice_id: str | None = None,
        language: str | None = None,
        audio_format: AudioFormat = AudioFormat.WAV,
    ) -> bytes:
        return await run_blocking(
            lambda: self.synthesize_blocking(text, voice_id, language, audio_format)
        )

    def synthesize_stream(
        self, text: str, voice_id: str | None = None, language: str | None = None
    ) -> AsyncIterator[AudioChunk]:
        return iterate_in_thread(lambda: self.synthesize_stream_blocking(text, voice_id, language))

    async def get_available_voices(self) -> list[str]:
        return self.available_voices()


def pull_from_async(
    source: AudioSource,
    loop: asyncio.AbstractEventLoop,
    timeout: float = SOURCE_READ_TIMEOUT_S,
) -> Iterator[AudioChunk]:
    """A blocking iterator over an async source, for use in a worker thread.

    Each item is fetched on ``loop`` (which must be running in another thread);
    a source that produces nothing for ``timeout`` seconds ends with TimeoutError.
    The source stays open (its owner closes it).
    """
    return iterate_from_thread(aiter(source), loop, timeout=timeout, close=False)
