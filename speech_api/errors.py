"""The seed's exception hierarchy: one base, one class per kind of failure."""

from __future__ import annotations


class SpeechAPIError(Exception):
    """Base class for every error the Speech API raises."""


class TranscriptionError(SpeechAPIError):
    """Speech-to-text failed."""


class SynthesisError(SpeechAPIError):
    """Text-to-speech failed."""


class AudioError(SpeechAPIError):
    """Audio had a format, size or content we cannot use."""


class APIError(SpeechAPIError):
    """A provider answered with an error, or could not be reached.

    ``retryable`` tells the caller whether trying again later can help (timeouts,
    429, 5xx, dropped connections) or not (bad key, bad request, quota exhausted).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.retryable = retryable

    def __str__(self) -> str:
        parts = [self.provider]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        return f"{self.message} ({', '.join(parts)})"
