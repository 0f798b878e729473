"""Text-to-speech at a Wyoming server (``wyoming-piper`` and friends).

A ``synthesize`` event goes out; the audio comes back as ``audio-start`` +
``audio-chunk``* + ``audio-stop`` and is handed on chunk by chunk as it arrives
(measured: wyoming-piper sends a sentence's chunks once the whole sentence is
synthesised, so the hub's chained mode gains its streaming by sending one
sentence at a time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStop
from wyoming.error import Error
from wyoming.tts import Synthesize, SynthesizeVoice

from drivers.local.framing import to_pcm16_mono
from drivers.local.tts import encode
from drivers.wyoming.connection import connected, next_event, send_all
from drivers.wyoming.loop import LoopThread
from drivers.wyoming.service import WyomingService
from speech_api import AudioChunk, AudioFormat, BlockingTextToSpeechClient, join_chunks
from speech_api.errors import SynthesisError


class WyomingTextToSpeechClient(WyomingService, BlockingTextToSpeechClient):
    """A Wyoming TTS server behind the seed's :class:`TextToSpeechClient` interface."""

    def __init__(self, uri: str, *, voice: str | None = None, speaker: str | None = None,
                 connect_timeout_s: float = 5.0, timeout_s: float = 30.0,
                 loop: LoopThread | None = None) -> None:
        super().__init__(uri, connect_timeout_s=connect_timeout_s, timeout_s=timeout_s,
                         loop=loop, thread_name="wyoming-tts")
        self.voice = voice
        self.speaker = speaker

    def synthesize_blocking(self, text: str, voice_id: str | None = None,
                            language: str | None = None,
                            audio_format: AudioFormat = AudioFormat.WAV) -> bytes:
        chunks = list(self.synthesize_stream_blocking(text, voice_id, language))
        if not chunks:
            raise SynthesisError(f"Wyoming server {self.uri} sent no audio")
        return encode(join_chunks(chunks), audio_format)

    def synthesize_stream_blocking(self, text: str, voice_id: str | None = None,
                                   language: str | None = None) -> Iterator[AudioChunk]:
        if not isinstance(text, str) or not text.strip():
            raise SynthesisError("text to synthesise is empty")
        voice = SynthesizeVoice(name=voice_id or self.voice, language=language,
                                speaker=self.speaker)
        return self._stream(lambda: self._session(text, voice))

    def available_voices(self) -> list[str]:
        info = self.describe()
        return sorted({voice.name for program in info.tts for voice in program.voices})

    async def _session(self, text: str, voice: SynthesizeVoice) -> AsyncIterator[AudioChunk]:
        async with connected(self.uri, self.connect_timeout_s, self.timeout_s) as client:
            has_voice = voice.name or voice.language or voice.speaker
            await send_all(client, [Synthesize(text=text, voice=voice if has_voice else None)])
            while True:
                event = await next_event(client, self.uri)
                if WyomingChunk.is_type(event.type):
                    chunk = WyomingChunk.from_event(event)
                    yield to_pcm16_mono(AudioChunk.pcm(chunk.audio, chunk.rate,
                                                       channels=chunk.channels,
                                                       bit_depth=8 * chunk.width),
                                        what="Wyoming speech")
                elif AudioStop.is_type(event.type):
                    return
                elif Error.is_type(event.type):
                    error = Error.from_event(event)
                    raise SynthesisError(f"Wyoming server {self.uri}: {error.text}"
                                         + (f" ({error.code})" if error.code else ""))
