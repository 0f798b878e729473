"""Offline text-to-speech: flite (default), espeak-ng, or piper with the user's voice.

``synthesize_stream_blocking`` synthesises sentence by sentence and yields each
sentence's audio (in ``chunk_ms`` pieces) before starting the next, so playback
starts after the first sentence. Audio is PCM16 mono at the engine's native
rate (flite 16 kHz, 8 kHz for its ``kal`` voice; espeak-ng 22.05 kHz; piper per voice).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from drivers.local.framing import to_pcm16_mono
from drivers.local.tts_engines import EspeakNg, Flite, Piper, TtsEngine
from speech_api import (
    AudioChunk,
    AudioFormat,
    BlockingTextToSpeechClient,
    SynthesisError,
    join_chunks,
)
from speech_api.sentences import split_sentences

TTS_ENGINES = ("flite", "espeak-ng", "piper")
_SOUNDFILE_FORMATS = {AudioFormat.FLAC: "FLAC", AudioFormat.OGG: "OGG", AudioFormat.MP3: "MP3"}


class LocalTextToSpeechClient(BlockingTextToSpeechClient):
    """A local TTS program behind the seed's :class:`TextToSpeechClient` interface.

    Construction checks everything that can be checked before the first
    sentence (program installed, voice known, piper model present) and raises
    ``ValueError`` naming the problem: a config error at start-up.
    """

    def __init__(
        self,
        *,
        engine: str = "flite",
        voice: str | None = None,
        piper_model: str | Path | None = None,
        piper_program: str = "piper",
        timeout_s: float = 30.0,
        chunk_ms: float = 200.0,
    ) -> None:
        self.engine = _make_engine(engine, timeout_s, piper_model, piper_program)
        self.voice = voice or self.engine.default_voice
        try:
            self.engine.check_voice(self.voice)
        except SynthesisError as exc:
            raise ValueError(str(exc)) from None
        self.chunk_ms = chunk_ms

    def available_voices(self) -> list[str]:
        return self.engine.voices()

    def synthesize_blocking(
        self,
        text: str,
        voice_id: str | None = None,
        language: str | None = None,
        audio_format: AudioFormat = AudioFormat.WAV,
    ) -> bytes:
        """The whole text as one audio file in ``audio_format`` (PCM: raw samples)."""
        chunk = self._speak(_checked(text), self._voice(voice_id, language))
        return encode(chunk, audio_format)

    def synthesize_stream_blocking(
        self, text: str, voice_id: str | None = None, language: str | None = None
    ) -> Iterator[AudioChunk]:
        voice = self._voice(voice_id, language)
        for sentence in split_sentences(_checked(text)):
            yield from self._speak(sentence, voice).split(self.chunk_ms)

    def _speak(self, text: str, voice: str) -> AudioChunk:
        return to_pcm16_mono(self.engine.synthesize(text, voice), what=self.engine.name)

    def _voice(self, voice_id: str | None, language: str | None) -> str:
        if voice_id:
            return self.engine.check_voice(voice_id)
        if language and isinstance(self.engine, EspeakNg):
            return self._espeak_voice(language.lower())
        if language and not language.lower().startswith("en"):
            raise SynthesisError(
                f"{self.engine.name} speaks English only; use the espeak-ng engine for {language!r}"
            )
        return self.voice


    def _espeak_voice(self, language: str) -> str:
        if self.voice == language or self.voice.startswith(language + "-"):
            return self.voice
        voices = self.engine.voices()
        if language in voices:
            return language
        regional = [v for v in voices if v.startswith(language + "-")]
        if regional:
            return regional[0]
        raise SynthesisError(f"espeak-ng has no voice for language {language!r}")


def _checked(text: str) -> str:
    if not isinstance(text, str):
        raise SynthesisError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise SynthesisError("text to synthesise is empty")
    return text


def encode(chunk: AudioChunk, audio_format: AudioFormat) -> bytes:
    """A PCM chunk as a file of ``audio_format`` (WAV, FLAC, OGG, MP3) or raw PCM."""
    if audio_format is AudioFormat.PCM:
        return chunk.data
    if audio_format is AudioFormat.WAV:
        return chunk.to_wav()
    import soundfile

    buf = io.BytesIO()
    try:
        soundfile.write(
            buf, chunk.to_numpy(), chunk.sample_rate, format=_SOUNDFILE_FORMATS[audio_format]
        )
    except (soundfile.LibsndfileError, ValueError, TypeError, KeyError) as exc:
        raise SynthesisError(f"cannot encode speech as {audio_format.value}: {exc}") from exc
    return buf.getvalue()


def _make_engine(
    engine: str, timeout_s: float, piper_model: str | Path | None, piper_program: str
) -> TtsEngine:
    if engine == "flite":
        return Flite(timeout_s)
    if engine == "espeak-ng":
        return EspeakNg(timeout_s)
    if engine == "piper":
        return Piper(timeout_s, piper_model, piper_program)
    raise ValueError(
        f"unknown local TTS engine {engine!r}; expected one of {', '.join(TTS_ENGINES)}"
    )


__all__ = ["TTS_ENGINES", "LocalTextToSpeechClient", "encode", "join_chunks"]
