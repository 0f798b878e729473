"""What the fake OpenAI server says and does, scripted per test.

A test takes ``server.script`` and sets what it needs before talking to the
server; everything has a sensible default so an unscripted server just works::

    server.script.transcript = "turn on the lights"          # STT + input transcription
    server.script.add_reply(Reply(text="Okay.", think_s=0.2))  # next realtime response
    server.script.add_reply(Reply(tool_call=ToolCall("get_time", "{}")))
    server.script.fail_http("/v1/audio/speech", 500, times=2)  # then succeed
    server.script.reject_websocket(401, code="invalid_api_key")
    server.script.frames_after_connect.append("{not json")    # malformed frame
    server.script.never_answer = True                          # a hung server
    server.script.frozen = True                                # realtime link goes dead

All methods are thread-safe: the server's threads read the script while the test
thread may still be changing it.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 24000
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    """A unique id shaped like OpenAI's (``item_000012``)."""
    return f"{prefix}_{next(_ids):06d}"


def tone_pcm(duration_ms: int, frequency: float = 440.0, amplitude: float = 0.3) -> bytes:
    """A sine tone as 24 kHz mono PCM16 (the default spoken reply)."""
    n = SAMPLE_RATE * duration_ms // 1000
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    wave = amplitude * np.sin(2 * math.pi * frequency * t)
    return (wave * 32767).astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model makes instead of (or before) speaking."""

    name: str
    arguments: str = "{}"
    call_id: str = field(default_factory=lambda: new_id("call"))


@dataclass(slots=True)
class Reply:
    """One realtime response.

    ``audio`` is 24 kHz mono PCM16; None means a tone lasting ``ms_per_char`` per
    character of ``text``. Audio goes out in ``chunk_ms`` deltas, ``pace_s`` apart.
    ``drop_after_audio_deltas`` closes the TCP connection (no close frame) after
    that many audio deltas, as a network failure mid-answer would.
    """

    text: str = "Hello from the fake server."
    audio: bytes | None = None
    tool_call: ToolCall | None = None
    think_s: float = 0.0
    chunk_ms: int = 100
    pace_s: float = 0.0
    ms_per_char: int = 20
    drop_after_audio_deltas: int | None = None

    def pcm(self) -> bytes:
        if self.audio is not None:
            return self.audio
        return tone_pcm(max(100, len(self.text) * self.ms_per_char))


@dataclass(slots=True)
class ChatReply:
    """One streamed chat completion: text in word-sized deltas and/or tool calls."""

    text: str = "Hi there, how can I help?"
    tool_calls: tuple[ToolCall, ...] = ()
    pace_s: float = 0.0


@dataclass(slots=True)
class HttpFailure:
    """An injected error answer for requests whose path ends with ``path``."""

    path: str
    status: int
    code: str | None = None
    message: str = "injected failure"
    times: int = 1
    retry_after_ms: int | None = None

    def body(self) -> dict[str, object]:
        err_type = {401: "invalid_request_error", 429: "requests"}.get(self.status, "server_error")
        if self.status < 500 and self.status not in (401, 429):
            err_type = "invalid_request_error"
        return {
            "error": {"message": self.message, "type": err_type, "param": None, "code": self.code}
        }


class FakeScript:
    """The mutable behaviour of one :class:`FakeOpenAIServer`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.transcript = "hello world"
        self.default_reply = Reply()
        self.default_chat_reply = ChatReply()
        self.speech_pcm: bytes | None = None  # /audio/speech audio; None: a tone
        self.think_s = 0.0  # delay before any HTTP answer
        self.stream_pace_s = 0.0  # delay between SSE events / audio chunks
        self.never_answer = False  # accept requests and sessions but never reply
        self.frozen = False  # realtime: stop answering frames *and* pings (a dead link)
        # realtime: accept the WebSocket, then close it right after session.update
        self.close_after_session_update = False
        self.vad_rms_threshold = 500.0  # PCM16 RMS above which a 20 ms frame is speech
        self.frames_after_connect: list[str] = []  # raw frames sent after session.created
        self._replies: deque[Reply] = deque()
        self._chat_replies: deque[ChatReply] = deque()
        self._http_failures: list[HttpFailure] = []
        self._ws_rejections: list[HttpFailure] = []

    def add_reply(self, reply: Reply) -> None:
        """Queue the next realtime response (later ones use ``default_reply``)."""
        with self._lock:
            self._replies.append(reply)

    def add_chat_reply(self, reply: ChatReply) -> None:
        with self._lock:
            self._chat_replies.append(reply)

    def fail_http(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        code: str | None = None,
        message: str = "injected failure",
        retry_after_ms: int | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``path`` with ``status``."""
        with self._lock:
            self._http_failures.append(
                HttpFailure(path, status, code, message, times, retry_after_ms)
            )

    def reject_websocket(
        self,
        status: int,
        *,
        times: int = 1,
        code: str | None = None,
        message: str = "injected handshake failure",
    ) -> None:
        """Refuse the next ``times`` Realtime handshakes with an HTTP ``status``."""
        with self._lock:
            self._ws_rejections.append(HttpFailure("/realtime", status, code, message, times))

    def accept_websockets(self) -> None:
        """Forget the handshake rejections still queued: the next handshake succeeds."""
        with self._lock:
            self._ws_rejections.clear()

    def next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default_reply

    def next_chat_reply(self) -> ChatReply:
        with self._lock:
            return self._chat_replies.popleft() if self._chat_replies else self.default_chat_reply

    def take_http_failure(self, path: str) -> HttpFailure | None:
        with self._lock:
            return _take(self._http_failures, path)

    def take_ws_rejection(self) -> HttpFailure | None:
        with self._lock:
            return _take(self._ws_rejections, "/realtime")

    def speech_audio(self, text: str) -> bytes:
        return (
            self.speech_pcm if self.speech_pcm is not None else tone_pcm(max(200, 40 * len(text)))
        )


def _take(failures: list[HttpFailure], path: str) -> HttpFailure | None:
    for failure in failures:
        if path.endswith(failure.path) and failure.times > 0:
            failure.times -= 1
            if failure.times == 0:
                failures.remove(failure)
            return failure
    return None
