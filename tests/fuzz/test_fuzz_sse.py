"""Fuzz the SSE streams through the real HTTP client paths (the official SDK, httpx).

A tiny HTTP server on 127.0.0.1 answers every request with the stream hypothesis
drew: valid events with wild values, truncated JSON, wrong types, huge lines,
invalid UTF-8, stray ``[DONE]`` and ``error`` events, random bytes. Streaming chat
(``ChatClient.stream``), streaming transcription and SSE speech synthesis must each
end with their result or a clean ``SpeechAPIError``: never another exception or a hang.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.openai.chat import ChatClient, ChatDone
from drivers.openai.config import OpenAIConfig
from drivers.openai.stt import OpenAISpeechToTextClient
from drivers.openai.tts import OpenAITextToSpeechClient
from speech_api import AudioChunk
from speech_api.errors import SpeechAPIError

KEY = "sk-fuzz-0123456789abcdef"


class SseServer:
    """Answers any POST with ``self.body`` as ``text/event-stream``."""

    def __init__(self) -> None:
        self.body = b""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = server.body
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> SseServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def sse_server() -> Iterator[SseServer]:
    with SseServer() as server:
        yield server


def config(server: SseServer) -> OpenAIConfig:
    return OpenAIConfig(api_key=KEY, base_url=server.base_url, max_retries=0, timeout_s=5)


# --- what a stream is made of ---------------------------------------------------------

WILD = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(),
              st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def chat_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


VALID_EVENTS: dict[str, list[dict[str, Any]]] = {
    "chat": [
        chat_chunk({"role": "assistant", "content": "Hel"}), chat_chunk({"content": "lo."}),
        chat_chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                    "function": {"name": "get_time", "arguments": "{}"}}]}),
        chat_chunk({}, "stop"),
    ],
    "stt": [{"type": "transcript.text.delta", "delta": "hello"},
            {"type": "transcript.text.done", "text": "hello world"}],
    "tts": [{"type": "speech.audio.delta", "audio": base64.b64encode(b"\0\1" * 50).decode()},
            {"type": "speech.audio.done",
             "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}],
}


@st.composite
def mutated(draw: st.DrawFn, event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with one value somewhere inside replaced by a wild one."""
    out: dict[str, Any] = json.loads(json.dumps(event))
    node: Any = out
    while isinstance(node, (dict, list)) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) or not isinstance(node[key], (dict, list)):
            node[key] = draw(WILD)
            break
        node = node[key]
    return out


@st.composite
def sse_streams(draw: st.DrawFn, kind: str) -> bytes:
    pieces: list[bytes] = []
    for _ in range(draw(st.integers(0, 8))):
        event = draw(st.sampled_from(VALID_EVENTS[kind]))
        choice = draw(st.integers(0, 9))
        if choice <= 3:
            data = json.dumps(event).encode()
        elif choice <= 6:
            data = json.dumps(draw(mutated(event))).encode()
        elif choice == 7:
            raw = json.dumps(event).encode()
            data = raw[: draw(st.integers(0, len(raw) - 1))]  # truncated JSON
        elif choice == 8:
            data = draw(st.binary(max_size=40))  # random bytes, invalid UTF-8
        else:
            data = json.dumps({"error": draw(WILD)}).encode()
        prefix = draw(st.sampled_from([b"data: ", b"data:", b"event: error\ndata: ", b""]))
        pieces.append(prefix + data + draw(st.sampled_from([b"\n\n", b"\r\n\r\n", b"\n", b""])))
    if draw(st.booleans()):
        pieces.append(b"data: [DONE]\n\n")
    return b"".join(pieces)


def ends_cleanly(consume: Callable[[], object]) -> None:
    """``consume`` returns or raises a SpeechAPIError whose text says what happened."""
    try:
        consume()
    except SpeechAPIError as exc:
        assert str(exc)
        assert KEY not in str(exc)


SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def consume_chat(cfg: OpenAIConfig) -> None:
    with ChatClient(cfg).stream([{"role": "user", "content": "hi"}]) as stream:
        events = list(stream)
    if events:
        assert isinstance(events[-1], ChatDone)


def consume_transcription(cfg: OpenAIConfig) -> None:
    client = OpenAISpeechToTextClient(cfg, model="gpt-4o-mini-transcribe")
    for text in client.transcribe_stream_blocking(AudioChunk.pcm(b"\0\0" * 1600, 16000)):
        assert isinstance(text, str)


def consume_speech(cfg: OpenAIConfig) -> None:
    client = OpenAITextToSpeechClient(cfg, stream_format="sse")
    for chunk in client.synthesize_stream_blocking("hello"):
        assert len(chunk.data) % 2 == 0


CONSUMERS: dict[str, Callable[[OpenAIConfig], None]] = {
    "chat": consume_chat, "stt": consume_transcription, "tts": consume_speech}


@pytest.mark.parametrize("kind", sorted(CONSUMERS))
@SETTINGS
@given(data=st.data())
def test_stream_ends_cleanly(sse_server: SseServer, kind: str, data: st.DataObject) -> None:
    sse_server.body = data.draw(sse_streams(kind))
    ends_cleanly(lambda: CONSUMERS[kind](config(sse_server)))


def test_valid_streams_give_results(sse_server: SseServer) -> None:
    def stream_of(kind: str) -> bytes:
        return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in VALID_EVENTS[kind])

    sse_server.body = stream_of("chat") + b"data: [DONE]\n\n"
    with ChatClient(config(sse_server)).stream([{"role": "user", "content": "hi"}]) as s:
        done = list(s)[-1]
    assert isinstance(done, ChatDone) and done.text == "Hello." and done.tool_calls
    sse_server.body = stream_of("stt")
    stt = OpenAISpeechToTextClient(config(sse_server), model="gpt-4o-mini-transcribe")
    assert list(stt.transcribe_stream_blocking(AudioChunk.pcm(b"\0\0" * 160, 16000)))[-1] == \
        "hello world"
    sse_server.body = stream_of("tts")
    tts = OpenAITextToSpeechClient(config(sse_server), stream_format="sse")
    assert b"".join(c.data for c in tts.synthesize_stream_blocking("hi")) == b"\0\1" * 50
