"""Settings for talking to OpenAI (or any server that speaks its protocol).

One place turns them into the things the clients need: the SDK's HTTP client
(:meth:`OpenAIConfig.http_client`, imported lazily so the realtime path never
loads ``openai``) and the Realtime WebSocket URL and headers.

The API key is read from the argument, the ``OPENAI_API_KEY`` environment
variable, or a key file, in that order. It never appears in ``repr``, logs or
error text.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from speech_api.errors import APIError

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

PROVIDER = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True, slots=True)
class OpenAIConfig:
    """Connection settings shared by every OpenAI client.

    ``max_retries`` is the HTTP retry budget for 429/5xx/timeouts (the SDK backs off
    between tries, honouring ``Retry-After``). The realtime link reconnects with
    :class:`drivers.backoff.Backoff` between ``reconnect_initial_s`` and
    ``reconnect_max_s``; ``max_reconnect_attempts`` None means keep trying until closed.
    """

    api_key: str | None = field(default=None, repr=False)
    api_key_file: str | None = None
    base_url: str = DEFAULT_BASE_URL
    organization: str | None = None
    project: str | None = None
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    max_retries: int = 2
    ping_interval_s: float = 5.0
    dead_link_after_s: float = 15.0
    reconnect_initial_s: float = 0.2
    reconnect_max_s: float = 10.0
    max_reconnect_attempts: int | None = None

    def __post_init__(self) -> None:
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(
                f"OpenAIConfig.base_url must start with http:// or https://, got {self.base_url!r}"
            )
        for name in ("timeout_s", "connect_timeout_s", "ping_interval_s", "dead_link_after_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"OpenAIConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.max_retries < 0:
            raise ValueError(f"OpenAIConfig.max_retries must be >= 0, got {self.max_retries}")
        if self.dead_link_after_s <= self.ping_interval_s:
            raise ValueError(
                "OpenAIConfig.dead_link_after_s must be longer than ping_interval_s "
                f"({self.dead_link_after_s} <= {self.ping_interval_s})"
            )

    def __repr__(self) -> str:
        key = "<set>" if self.api_key else "<none>"
        return (
            f"OpenAIConfig(api_key={key}, api_key_file={self.api_key_file!r}, "
            f"base_url={self.base_url!r}, organization={self.organization!r}, "
            f"project={self.project!r}, timeout_s={self.timeout_s}, "
            f"max_retries={self.max_retries})"
        )

    def resolve_api_key(self) -> str:
        """The key to use; raises a non-retryable :class:`APIError` when there is none."""
        if self.api_key:
            return self.api_key.strip()
        env = os.environ.get("OPENAI_API_KEY", "").strip()
        if env:
            return env
        if self.api_key_file:
            return read_key_file(Path(self.api_key_file).expanduser())
        raise APIError(
            "no OpenAI API key: pass api_key, set OPENAI_API_KEY, or point api_key_file "
            "at a file holding the key",
            provider=PROVIDER,
            code="missing_api_key",
        )

    @property
    def realtime_base_url(self) -> str:
        """``base_url`` with http->ws / https->wss, plus ``/realtime`` (as the SDK does)."""
        parts = urlsplit(self.base_url.rstrip("/"))
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path + "/realtime", "", ""))

    def realtime_url(self, *, model: str | None = None, intent: str | None = None) -> str:
        """The Realtime WebSocket URL for a conversation (``model``) or ``intent``."""
        query: dict[str, str] = {}
        if model:
            query["model"] = model
        if intent:
            query["intent"] = intent
        suffix = f"?{urlencode(query)}" if query else ""
        return self.realtime_base_url + suffix

    def realtime_headers(self) -> list[str]:
        """Handshake headers: Bearer auth, org/project; never the beta header."""
        headers = [f"Authorization: Bearer {self.resolve_api_key()}"]
        if self.organization:
            headers.append(f"OpenAI-Organization: {self.organization}")
        if self.project:
            headers.append(f"OpenAI-Project: {self.project}")
        return headers

    def http_client(self) -> openai.OpenAI:
        """A configured SDK client (imports ``openai`` only when called)."""
        import openai

        return openai.OpenAI(
            api_key=self.resolve_api_key(),
            organization=self.organization,
            project=self.project,
            base_url=self.base_url,
            timeout=openai.Timeout(self.timeout_s, connect=self.connect_timeout_s),
            max_retries=self.max_retries,
        )


def read_key_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise APIError(
            f"cannot read the OpenAI key file {path}: {exc.strerror or exc}",
            provider=PROVIDER,
            code="missing_api_key",
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("OpenAI key file %s is readable by group/other; chmod 600 it", path)
    if not text:
        raise APIError(
            f"the OpenAI key file {path} is empty", provider=PROVIDER, code="missing_api_key"
        )
    return text
