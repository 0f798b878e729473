"""Turn the SDK's and the WebSocket's failures into the seed's exceptions.

Each error class here is both the seed's kind of failure (``TranscriptionError``,
``SynthesisError``) and an :class:`speech_api.errors.APIError`, so callers can
catch either and still read ``status``, ``code`` and ``retryable``. Every message
passes through :func:`redact` so no API key ever reaches a log or a traceback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from speech_api.errors import APIError, SynthesisError, TranscriptionError

if TYPE_CHECKING:
    from collections.abc import Iterable

PROVIDER = "openai"
E = TypeVar("E", bound=APIError)

# Errors that trying again cannot fix: a bad key, an exhausted quota, a bad request.
FATAL_CODES = frozenset(
    {"invalid_api_key", "insufficient_quota", "account_deactivated", "missing_api_key"}
)
RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))

_KEY_PATTERN = re.compile(r"\b(sk|rk)-[A-Za-z0-9_\-*]{6,}")


class OpenAITranscriptionError(TranscriptionError, APIError):
    """Speech-to-text against OpenAI failed."""


class OpenAISynthesisError(SynthesisError, APIError):
    """Text-to-speech against OpenAI failed."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and anything shaped like an API key masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub(r"\1-***", text)


def is_retryable(status: int | None, code: str | None) -> bool:
    if code in FATAL_CODES:
        return False
    return status is None or status in RETRYABLE_STATUSES


def from_sdk_error(
    exc: BaseException,
    *,
    kind: type[E],
    secrets: Iterable[str] = (),
    what: str = "request",
) -> E:
    """The seed's error for an exception the openai SDK raised (``kind`` picks the class)."""
    import openai

    status: int | None = None
    code: str | None = None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = _str_or_none(exc.code) or _str_or_none(exc.type)
        detail = exc.message
    elif isinstance(exc, openai.APITimeoutError):
        code, detail = "timeout", "timed out waiting for the server"
    elif isinstance(exc, openai.APIConnectionError):
        code, detail = "connection_error", f"cannot reach the server ({_cause(exc)})"
    elif isinstance(exc, openai.APIError):
        detail = exc.message
        code = _str_or_none(exc.code)
    else:
        detail = f"{type(exc).__name__}: {exc}"
    if status == 401 and code is None:
        code = "invalid_api_key"
    return kind(
        redact(f"OpenAI {what} failed: {detail}", secrets),
        provider=PROVIDER,
        status=status,
        code=code,
        retryable=is_retryable(status, code),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}" if cause else "no response"
