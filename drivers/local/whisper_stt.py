"""Optional faster-whisper speech-to-text, with a model directory the user supplies.

No trusted package ships Whisper weights and nothing is downloaded at run time,
so this engine needs ``local.stt.model_dir`` (a CTranslate2 model directory,
e.g. a converted ``tiny.en``) and the ``faster-whisper`` package. Both are
checked when the client is built: a config error at start-up. Pi 4 tier only
(~270 MB RAM for tiny.en).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from drivers.local.realtime_stt import transcribe_live
from drivers.local.stt import DECODER_RATE, LocalSpeechToTextClient, is_silent
from drivers.local.vad import create_vad
from speech_api import (
    AudioChunk,
    BlockingSpeechToTextClient,
    RealtimeSessionConfig,
    TranscriptionEvent,
)


class _Collector:
    """An utterance decoder for :func:`transcribe_live` with no partials (Whisper
    decodes whole utterances)."""

    def feed(self, pcm: bytes) -> str:
        return ""


class WhisperSpeechToTextClient(BlockingSpeechToTextClient):
    """faster-whisper behind the seed's :class:`SpeechToTextClient` interface."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        compute_type: str = "int8",
        beam_size: int = 1,
        language: str = "en",
        vad_engine: str = "webrtc",
    ) -> None:
        path = Path(model_dir)
        if not (path / "model.bin").is_file():
            raise ValueError(
                f"faster-whisper model directory {path} has no model.bin "
                "(expected a CTranslate2 Whisper model directory)"
            )
        try:
            module: Any = importlib.import_module("faster_whisper")
        except ImportError:
            raise ValueError(
                "the faster_whisper engine needs the 'faster-whisper' package installed"
            ) from None
        self._model = module.WhisperModel(str(path), device="cpu", compute_type=compute_type)
        self.beam_size = beam_size
        self.language = language
        self.vad_engine = vad_engine
        self._lock = threading.Lock()  # one decoding at a time: CTranslate2 uses every core

    def supported_languages(self) -> list[str]:
        return [self.language]

    def transcribe_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str:
        return " ".join(self._segments(self._pcm(audio), language, prompt)).strip()

    def transcribe_stream_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> Iterator[str]:
        text = ""
        for segment in self._segments(self._pcm(audio), language, prompt):
            text = f"{text} {segment}".strip()
            yield text
        if not text:
            yield ""

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        config = config or RealtimeSessionConfig()
        yield from transcribe_live(
            chunks,
            config,
            create_vad(self.vad_engine),
            start=_Collector,
            finish=lambda _, pcm: " ".join(
                self._segments(pcm, config.language, config.prompt)
            ).strip(),
        )

    @staticmethod
    def _pcm(audio: AudioChunk) -> bytes:
        return LocalSpeechToTextClient.prepare_without_floor(audio)

    def _segments(self, pcm: bytes, language: str | None, prompt: str | None) -> Iterator[str]:
        if is_silent(pcm):
            return
        import numpy as np

        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        assert DECODER_RATE == 16000  # Whisper's rate too
        with self._lock:
            segments, _ = self._model.transcribe(
                samples,
                language=language or self.language,
                initial_prompt=prompt,
                beam_size=self.beam_size,
            )
            for segment in segments:
                yield str(segment.text).strip()
