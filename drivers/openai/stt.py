"""Speech-to-text through OpenAI: batch, streaming (SSE) and realtime.

Batch and streaming go through the official SDK (``/audio/transcriptions``, PCM
uploaded as WAV); realtime opens a Realtime transcription session
(``?intent=transcription``) with :class:`OpenAIRealtimeClient`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import OpenAITranscriptionError
from drivers.openai.realtime import OpenAIRealtimeClient, OpenAIRealtimeSession
from drivers.openai.sdk_client import SdkClient
from speech_api.audio import AudioChunk
from speech_api.clients import BlockingSpeechToTextClient
from speech_api.errors import APIError, TranscriptionError
from speech_api.events import (
    InputTranscript,
    ProviderError,
    RealtimeSessionConfig,
    SpeechStarted,
    TranscriptionEvent,
    TurnDetection,
)

log = logging.getLogger(__name__)

NON_STREAMING_MODELS = frozenset({"whisper-1"})
# ISO-639-1 codes the OpenAI transcription models accept (the Whisper language set).
SUPPORTED_LANGUAGES = (
    "af",
    "ar",
    "hy",
    "az",
    "be",
    "bs",
    "bg",
    "ca",
    "zh",
    "hr",
    "cs",
    "da",
    "nl",
    "en",
    "et",
    "fi",
    "fr",
    "gl",
    "de",
    "el",
    "he",
    "hi",
    "hu",
    "is",
    "id",
    "it",
    "ja",
    "kn",
    "kk",
    "ko",
    "lv",
    "lt",
    "mk",
    "ms",
    "mr",
    "mi",
    "ne",
    "no",
    "fa",
    "pl",
    "pt",
    "ro",
    "ru",
    "sr",
    "sk",
    "sl",
    "es",
    "sw",
    "sv",
    "tl",
    "ta",
    "th",
    "tr",
    "uk",
    "ur",
    "vi",
    "cy",
)
REALTIME_TAIL_S = 10.0  # after the source ends, how long to wait for the last transcripts
TAIL_QUIET_S = 0.3


class OpenAISpeechToTextClient(SdkClient, BlockingSpeechToTextClient):
    """The seed's ``OpenAISpeechToTextClient``; ``model`` is the batch/streaming model."""

    def __init__(
        self, config: OpenAIConfig | None = None, *, model: str = "gpt-4o-transcribe"
    ) -> None:
        super().__init__(config)
        self.model = model

    def _request(
        self, audio: AudioChunk, language: str | None, prompt: str | None
    ) -> dict[str, Any]:
        if not audio.data:
            raise OpenAITranscriptionError(
                "cannot transcribe empty audio", provider="openai", code="empty_audio"
            )
        upload = (
            ("audio.wav", audio.to_wav(), "audio/wav")
            if audio.is_pcm
            else (f"audio.{audio.format.value}", audio.data, f"audio/{audio.format.value}")
        )
        request: dict[str, Any] = {"model": self.model, "file": upload}
        if language:
            request["language"] = language
        if prompt:
            request["prompt"] = prompt
        return request

    def transcribe_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str:
        import openai

        try:
            result = self.sdk.audio.transcriptions.create(
                **self._request(audio, language, prompt), response_format="json"
            )
        except openai.OpenAIError as exc:
            raise self.sdk_error(exc, OpenAITranscriptionError, "transcription") from None
        return str(result.text)

    def transcribe_stream_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> Iterator[str]:
        """Yields the transcript so far after each delta, then the final text."""
        import openai

        if self.model in NON_STREAMING_MODELS:
            yield self.transcribe_blocking(audio, language, prompt)
            return
        text = ""
        try:
            stream = self.sdk.audio.transcriptions.create(
                **self._request(audio, language, prompt), stream=True
            )
            with stream:
                for event in stream:
                    kind = getattr(event, "type", None)
                    if kind == "transcript.text.delta":
                        text += _string(event.delta)
                        yield text
                    elif kind == "transcript.text.done" and event.text != text:
                        text = _string(event.text)
                        yield text
        except openai.OpenAIError as exc:
            raise self.sdk_error(exc, OpenAITranscriptionError, "transcription") from None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # the SDK does not validate stream events: bad JSON or types are the server's
            raise OpenAITranscriptionError(
                f"malformed transcription stream: {type(exc).__name__}: {exc}",
                provider="openai", code="bad_response") from None

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        """Stream ``chunks`` into a Realtime transcription session, yielding transcripts.

        Runs in the caller's thread: each chunk is sent, then whatever events have
        arrived are yielded. When the source ends, the turn is closed (a commit, or
        trailing silence for the server's VAD) and the last finals are awaited.
        """
        cfg = config or RealtimeSessionConfig(model=self.model)
        try:
            session = OpenAIRealtimeClient(self.config).open_transcription(
                cfg.model, session_config=cfg
            )
        except APIError as exc:
            raise as_transcription_error(exc) from None
        try:
            session.initialize_session()
            tracker = _TurnTracker(cfg.enable_partial_results)
            last: AudioChunk | None = None
            for chunk in chunks:
                session.send_audio(chunk)
                session.wait_for_send_room()  # an unpaced source is sent whole, not dropped
                last = chunk
                yield from tracker.drain(session, 0.0)
            if last is not None:
                tracker.pending_commits += _close_turn(session, cfg, last)
            # Wait for every started turn's final; a short quiet spell first lets the
            # server's VAD report a turn the last chunks may still be opening.
            deadline = time.monotonic() + REALTIME_TAIL_S
            quiet_since = time.monotonic()
            while time.monotonic() < deadline:
                if tracker.waiting:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= TAIL_QUIET_S:
                    break
                for event in tracker.drain(session, 0.05):
                    quiet_since = time.monotonic()
                    yield event
        except APIError as exc:  # a control frame failed: the link is gone
            raise as_transcription_error(exc) from None
        finally:
            session.close()

    def supported_languages(self) -> list[str]:
        return list(SUPPORTED_LANGUAGES)


def as_transcription_error(exc: APIError) -> TranscriptionError:
    """``exc`` as the seed's :class:`TranscriptionError` (it may be one already)."""
    if isinstance(exc, TranscriptionError):
        return exc
    return OpenAITranscriptionError(exc.message, provider=exc.provider, status=exc.status,
                                    code=exc.code, retryable=exc.retryable)


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _close_turn(
    session: OpenAIRealtimeSession, cfg: RealtimeSessionConfig, last: AudioChunk
) -> int:
    """End the last turn; returns how many commits now await a final transcript."""
    if cfg.turn_detection is TurnDetection.NONE:
        session.commit()
        return 1
    # Let the server's VAD hear the end of speech, as it would from a live microphone.
    silence_ms = cfg.silence_duration_ms + 200
    frames = last.sample_rate * silence_ms // 1000
    session.send_audio(AudioChunk.pcm(bytes(frames * 2), last.sample_rate))
    return 0


class _TurnTracker:
    """Turns session events into TranscriptionEvents and knows which turns await a final."""

    def __init__(self, partials: bool) -> None:
        self._partials = partials
        self.open_items: set[str] = set()
        self.pending_commits = 0  # client commits whose item id we have not seen yet

    @property
    def waiting(self) -> bool:
        return bool(self.open_items) or self.pending_commits > 0

    def drain(self, session: OpenAIRealtimeSession, wait_s: float) -> Iterator[TranscriptionEvent]:
        event = session.next_event(wait_s)
        while event is not None:
            if isinstance(event, SpeechStarted):
                self.open_items.add(event.item_id)
            elif isinstance(event, InputTranscript):
                if event.is_final:
                    if event.item_id in self.open_items:
                        self.open_items.discard(event.item_id)
                    elif self.pending_commits:
                        self.pending_commits -= 1
                    yield TranscriptionEvent(event.text, True, event.item_id)
                else:
                    if self.pending_commits and event.item_id not in self.open_items:
                        self.pending_commits -= 1  # this is the committed turn
                    self.open_items.add(event.item_id)
                    if self._partials:
                        yield TranscriptionEvent(event.text, False, event.item_id)
            elif isinstance(event, ProviderError):
                if event.code == "input_audio_buffer_commit_empty":
                    self.pending_commits = max(0, self.pending_commits - 1)
                if event.fatal:
                    raise OpenAITranscriptionError(
                        f"realtime transcription failed: {event.message}",
                        provider="openai",
                        code=event.code,
                        retryable=False,
                    )
                log.warning("realtime transcription error (%s): %s", event.code, event.message)
            event = session.next_event(0.0)
