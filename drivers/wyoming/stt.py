"""Speech-to-text at a Wyoming server (``wyoming-faster-whisper`` and friends).

The clip (or, through :meth:`transcribe_realtime_blocking`, audio as it is spoken)
goes out as ``transcribe`` + ``audio-start`` + ``audio-chunk``* + ``audio-stop``;
the answer is a ``transcript``, optionally preceded by ``transcript-start`` /
``transcript-chunk``* / ``transcript-stop`` from servers that stream their text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from wyoming.asr import Transcribe, Transcript, TranscriptChunk
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart, AudioStop
from wyoming.error import Error

from drivers.local.framing import to_pcm16_mono
from drivers.wyoming.connection import connected, next_event, send_all
from drivers.wyoming.loop import LoopThread
from drivers.wyoming.service import WyomingService
from speech_api import AudioChunk, BlockingSpeechToTextClient, TranscriptionEvent
from speech_api.errors import TranscriptionError
from speech_api.events import RealtimeSessionConfig

CHUNK_MS = 100  # audio-chunk size sent to the server


class WyomingSpeechToTextClient(WyomingService, BlockingSpeechToTextClient):
    """A Wyoming ASR server behind the seed's :class:`SpeechToTextClient` interface."""

    def __init__(self, uri: str, *, language: str | None = None, model: str | None = None,
                 connect_timeout_s: float = 5.0, timeout_s: float = 30.0,
                 loop: LoopThread | None = None) -> None:
        super().__init__(uri, connect_timeout_s=connect_timeout_s, timeout_s=timeout_s,
                         loop=loop, thread_name="wyoming-stt")
        self.language = language
        self.model = model

    # --- the seed's interface -------------------------------------------------------

    def transcribe_blocking(self, audio: AudioChunk, language: str | None = None,
                            prompt: str | None = None) -> str:
        texts = list(self.transcribe_stream_blocking(audio, language, prompt))
        return texts[-1] if texts else ""

    def transcribe_stream_blocking(self, audio: AudioChunk, language: str | None = None,
                                   prompt: str | None = None) -> Iterator[str]:
        """The growing transcript (if the server streams it), the final text last."""
        pcm = to_pcm16_mono(audio, what="audio to transcribe")
        for is_final, text in self._exchange(iter(pcm.split(CHUNK_MS)), language):
            yield text
            if is_final:
                return

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        """Audio streamed to the server while it is spoken; one final event at its end."""
        language = config.language if config is not None else None
        for is_final, text in self._exchange(chunks, language):
            yield TranscriptionEvent(text=text, is_final=is_final, item_id="wyoming-1")

    def supported_languages(self) -> list[str]:
        info = self.describe()
        return sorted({lang for program in info.asr for model in program.models
                       for lang in model.languages})

    # --- one exchange ---------------------------------------------------------------

    def _exchange(self, chunks: Iterator[AudioChunk],
                  language: str | None) -> Iterator[tuple[bool, str]]:
        """(final?, text) pairs as the server answers."""
        lang = language or self.language
        return self._stream(lambda: self._session(chunks, lang))

    async def _session(self, chunks: Iterator[AudioChunk],
                       language: str | None) -> AsyncIterator[tuple[bool, str]]:
        import asyncio

        async with connected(self.uri, self.connect_timeout_s, self.timeout_s) as client:
            start: list[object] = []
            await send_all(client, [Transcribe(name=self.model, language=language)])
            while True:  # a live source blocks until audio comes: read it off the loop
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    break
                pcm = to_pcm16_mono(chunk, what="audio to transcribe")
                if not start:
                    start.append(pcm.sample_rate)
                    await send_all(client, [AudioStart(rate=pcm.sample_rate, width=2,
                                                       channels=1)])
                await send_all(client, [WyomingChunk(rate=pcm.sample_rate, width=2, channels=1,
                                                     audio=pcm.data)])
            if not start:
                yield True, ""
                return
            await send_all(client, [AudioStop()])
            text = ""
            while True:
                event = await next_event(client, self.uri)
                if Transcript.is_type(event.type):
                    yield True, Transcript.from_event(event).text.strip()
                    return
                if TranscriptChunk.is_type(event.type):
                    text += TranscriptChunk.from_event(event).text
                    yield False, text.strip()
                elif Error.is_type(event.type):
                    error = Error.from_event(event)
                    raise TranscriptionError(f"Wyoming server {self.uri}: {error.text}"
                                             + (f" ({error.code})" if error.code else ""))
