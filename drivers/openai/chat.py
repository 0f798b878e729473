"""Streaming chat completions for the chained mode (any OpenAI-compatible server).

``ChatClient.stream(messages, tools)`` returns a :class:`ChatStream`: iterate it
for :class:`TextDelta` pieces as the model writes, :class:`ToolCallRequest` for
each function call (whole, once its arguments are complete), and a final
:class:`ChatDone`. ``cancel()`` (from any thread) or leaving the ``with`` block
closes the HTTP stream at once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import from_sdk_error
from drivers.openai.sdk_client import SdkClient
from speech_api.chat import ChatDone, ChatEvent, TextDelta, ToolCallRequest
from speech_api.errors import APIError

if TYPE_CHECKING:
    from openai import Stream
    from openai.types.chat import ChatCompletionChunk

# The event types live in speech_api.chat (provider-neutral); re-exported for callers here.
__all__ = ["ChatClient", "ChatDone", "ChatEvent", "ChatStream", "TextDelta", "ToolCallRequest",
           "chat_tool"]

log = logging.getLogger(__name__)


class ChatStream:
    """One streamed answer (a :class:`speech_api.chat.ChatAnswer`); also a context manager."""

    def __init__(self, open_stream: Any, secrets: Sequence[str]) -> None:
        self._open = open_stream
        self._secrets = list(secrets)
        self._sdk_stream: Stream[ChatCompletionChunk] | None = None
        self._lock = threading.Lock()
        self._cancelled = False

    def __iter__(self) -> Iterator[ChatEvent]:
        return self._events()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop the answer: closes the HTTP response; iteration ends without error."""
        with self._lock:
            self._cancelled = True
        self._close()

    def _close(self) -> None:
        with self._lock:
            stream, self._sdk_stream = self._sdk_stream, None
        if stream is not None:
            _wake_reader(stream)
            stream.close()

    def _events(self) -> Iterator[ChatEvent]:
        import openai

        calls: dict[int, dict[str, str]] = {}
        text: list[str] = []
        finish, usage = "stop", {}
        try:
            stream = self._start()
            if stream is None:
                return
            for chunk in stream:
                if chunk.usage is not None:
                    usage = {
                        "prompt_tokens": chunk.usage.prompt_tokens,
                        "completion_tokens": chunk.usage.completion_tokens,
                        "total_tokens": chunk.usage.total_tokens,
                    }
                for choice in chunk.choices:
                    content = _text(choice.delta.content)
                    if content:
                        text.append(content)
                        yield TextDelta(content)
                    for tc in choice.delta.tool_calls or []:
                        if not isinstance(tc.index, int):
                            raise TypeError(f"tool call index {tc.index!r:.40} is not an integer")
                        slot = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                        slot["id"] = _text(tc.id) or slot["id"]
                        if tc.function is not None:
                            slot["name"] = _text(tc.function.name) or slot["name"]
                            slot["args"] += _text(tc.function.arguments)
                    if choice.finish_reason:
                        finish = _text(choice.finish_reason)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # The SDK builds chunks without validating them: a malformed stream (bad
            # JSON, wrong types) is the provider's fault, reported like any API error.
            if self._cancelled:
                return
            raise APIError(f"malformed chat completion stream: {type(exc).__name__}: {exc}",
                           provider="openai", code="bad_response") from None
        except (openai.OpenAIError, OSError) as exc:
            if self._cancelled:
                return
            if isinstance(exc, openai.OpenAIError):
                raise from_sdk_error(
                    exc, kind=APIError, secrets=self._secrets, what="chat completion"
                ) from None
            raise
        finally:
            self._close()
        if self._cancelled:
            return
        requests = tuple(
            ToolCallRequest(c["id"], c["name"], c["args"]) for _, c in sorted(calls.items())
        )
        yield from requests
        yield ChatDone(finish, "".join(text), requests, usage)

    def _start(self) -> Stream[ChatCompletionChunk] | None:
        with self._lock:
            if self._cancelled:
                return None
        stream: Stream[ChatCompletionChunk] = self._open()
        with self._lock:
            if not self._cancelled:
                self._sdk_stream = stream
                return stream
        stream.close()  # cancelled while the request was being made
        return None


def _wake_reader(stream: Stream[ChatCompletionChunk]) -> None:
    """Shut the connection's socket down so a read blocked in another thread returns now.

    Closing the response alone leaves a thread already waiting in ``recv`` asleep until
    the server sends more or the read times out (Linux does not wake it on ``close``):
    barge-in on a stalled model would then wait. Best effort: without the socket the
    close below still ends the stream at the next chunk.
    """
    network = stream.response.extensions.get("network_stream")
    get_info = getattr(network, "get_extra_info", None)
    sock = get_info("socket") if callable(get_info) else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _text(value: object) -> str:
    """A string field of a stream chunk ("" when absent); TypeError for anything else."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


class ChatClient(SdkClient):
    """Streaming chat completions against ``config.base_url``; a ``speech_api.chat.ChatModel``."""

    def __init__(
        self,
        config: OpenAIConfig | None = None,
        *,
        model: str = "gpt-4o-mini",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(config)
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens

    def stream(
        self, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None = None
    ) -> ChatStream:
        """Start an answer to ``messages``; nothing is sent until iteration begins."""
        if not messages:
            raise ValueError("chat needs at least one message")
        request: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            request["tools"] = [chat_tool(tool) for tool in tools]
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_completion_tokens"] = self.max_tokens
        return ChatStream(
            lambda: self.sdk.chat.completions.create(**request), [self.config.resolve_api_key()]
        )


def chat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A function tool in the Chat Completions shape; accepts the Realtime shape too."""
    if "function" in tool:
        return tool
    if not isinstance(tool.get("name"), str):
        raise ValueError(f"a tool needs a string 'name' or a 'function' holding one: {tool!r}")
    spec = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
    return {"type": "function", "function": spec}
