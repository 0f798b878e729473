"""What the HTTP clients share: one lazily built SDK client and key-safe errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import from_sdk_error
from speech_api.errors import APIError

if TYPE_CHECKING:
    import openai

E = TypeVar("E", bound=APIError)


class SdkClient:
    """Base of the clients that talk to the REST API through the official SDK."""

    def __init__(self, config: OpenAIConfig | None = None) -> None:
        self.config = config or OpenAIConfig()
        self._client: openai.OpenAI | None = None

    @property
    def sdk(self) -> openai.OpenAI:
        """The SDK client, built on first use (so importing never loads ``openai``)."""
        if self._client is None:
            self._client = self.config.http_client()
        return self._client

    def sdk_error(self, exc: Exception, kind: type[E], what: str) -> E:
        """The seed's error of class ``kind`` for an SDK failure, with the key scrubbed."""
        return from_sdk_error(exc, kind=kind, what=what, secrets=[self.config.resolve_api_key()])
