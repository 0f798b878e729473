"""Text-to-speech through OpenAI's ``/audio/speech`` (via the official SDK).

``synthesize`` returns a complete file in the requested format; ``synthesize_stream``
yields 24 kHz PCM chunks as the response body arrives (``stream_format="audio"``,
a chunked binary body) or as SSE ``speech.audio.delta`` events (``"sse"``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any, Literal

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import OpenAISynthesisError
from drivers.openai.sdk_client import SdkClient
from speech_api.audio import AudioChunk, AudioFormat
from speech_api.clients import BlockingTextToSpeechClient

PCM_RATE = 24000
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
# OpenAI names for our formats; OGG comes back as Opus in an Ogg container.
_RESPONSE_FORMATS = {
    AudioFormat.WAV: "wav",
    AudioFormat.MP3: "mp3",
    AudioFormat.FLAC: "flac",
    AudioFormat.OGG: "opus",
    AudioFormat.PCM: "pcm",
}
CHUNK_BYTES = 4800  # 100 ms of 24 kHz PCM16


class OpenAITextToSpeechClient(SdkClient, BlockingTextToSpeechClient):
    """The seed's ``OpenAITextToSpeechClient``. ``language`` is accepted and ignored:
    OpenAI voices speak the language of the text."""

    def __init__(
        self,
        config: OpenAIConfig | None = None,
        *,
        model: str = "gpt-4o-mini-tts",
        voice: str = "marin",
        instructions: str | None = None,
        speed: float | None = None,
        stream_format: Literal["audio", "sse"] = "audio",
    ) -> None:
        super().__init__(config)
        self.model = model
        self.voice = voice
        self.instructions = instructions
        self.speed = speed
        self.stream_format = stream_format

    def _request(self, text: str, voice_id: str | None, response_format: str) -> dict[str, Any]:
        if not text.strip():
            raise OpenAISynthesisError(
                "cannot synthesize empty text", provider="openai", code="empty_text"
            )
        request: dict[str, Any] = {
            "model": self.model,
            "input": text,
            "voice": voice_id or self.voice,
            "response_format": response_format,
        }
        if self.instructions:
            request["instructions"] = self.instructions
        if self.speed is not None:
            request["speed"] = self.speed
        return request

    def synthesize_blocking(
        self,
        text: str,
        voice_id: str | None = None,
        language: str | None = None,
        audio_format: AudioFormat = AudioFormat.WAV,
    ) -> bytes:
        import openai

        request = self._request(text, voice_id, _RESPONSE_FORMATS[audio_format])
        try:
            return self.sdk.audio.speech.create(**request).read()
        except openai.OpenAIError as exc:
            raise self.sdk_error(exc, OpenAISynthesisError, "speech synthesis") from None

    def synthesize_stream_blocking(
        self, text: str, voice_id: str | None = None, language: str | None = None
    ) -> Iterator[AudioChunk]:
        import openai

        request = self._request(text, voice_id, "pcm")
        if self.stream_format == "sse":
            request["stream_format"] = "sse"
        try:
            with self.sdk.audio.speech.with_streaming_response.create(**request) as response:
                pieces = (
                    _sse_audio(response.iter_lines())
                    if self.stream_format == "sse"
                    else response.iter_bytes(CHUNK_BYTES)
                )
                yield from _whole_samples(pieces)
        except openai.OpenAIError as exc:
            raise self.sdk_error(exc, OpenAISynthesisError, "speech synthesis") from None

    def available_voices(self) -> list[str]:
        return list(VOICES)


def _sse_audio(lines: Iterator[str]) -> Iterator[bytes]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[5:].strip())
            if event.get("type") == "speech.audio.delta":
                yield base64.b64decode(event["audio"], validate=True)
            elif "error" in event:
                raise OpenAISynthesisError(
                    f"speech stream failed: {event['error'].get('message', '')}",
                    provider="openai",
                    code=event["error"].get("code"),
                    retryable=True,
                )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise OpenAISynthesisError(
                f"malformed speech SSE event: {exc}", provider="openai", code="bad_response"
            ) from None


def _whole_samples(pieces: Iterator[bytes]) -> Iterator[AudioChunk]:
    """PCM16 chunks, carrying an odd trailing byte over to the next piece."""
    carry = b""
    for piece in pieces:
        data = carry + piece
        cut = len(data) - len(data) % 2
        carry = data[cut:]
        if cut:
            yield AudioChunk.pcm(data[:cut], PCM_RATE)
