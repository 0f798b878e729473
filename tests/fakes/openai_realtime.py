"""One Realtime WebSocket session inside the fake OpenAI server (GA protocol).

Reads client frames (validated against the SDK models), keeps the session
settings, runs a server VAD on the appended audio's energy, commits turns,
streams scripted transcriptions and spoken replies, and handles barge-in,
``response.cancel``, ``conversation.item.truncate`` and function calls the way
``openai-audio-protocol.md`` §3.3 describes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from tests.fakes.openai_response import ResponseRun
from tests.fakes.openai_script import SAMPLE_RATE, new_id
from tests.fakes.openai_session import default_session, merge_session
from tests.fakes.ws_server import ProtocolViolationError, ServerWebSocket

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAIServer

FRAME_BYTES = SAMPLE_RATE // 50 * 2  # 20 ms of PCM16
MIN_COMMIT_MS = 100


class RealtimeConnection:
    """Serves one client until it disconnects or the server stops."""

    def __init__(
        self, server: FakeOpenAIServer, ws: ServerWebSocket, *, intent: str | None, model: str
    ) -> None:
        self.server = server
        self.ws = ws
        self.kind = "transcription" if intent == "transcription" else "realtime"
        self.session = default_session(self.kind, model)
        self.conversation_id = new_id("conv")
        self._lock = threading.RLock()
        self._buffer = bytearray()  # appended, not yet committed
        self._vad_pending = bytearray()  # bytes not yet cut into 20 ms frames
        self._audio_ms = 0  # input audio received so far
        self._speech_item: str | None = None
        self._speech_start_ms = 0
        self._silence_ms = 0
        self._last_item: str | None = None
        self._assistant_audio_ms: dict[str, int] = {}
        self._response: ResponseRun | None = None
        self._threads: list[threading.Thread] = []

    # --- plumbing -------------------------------------------------------------------

    def serve(self) -> None:
        self.ws.answer_pings = lambda: not self.server.script.frozen
        self.send({"type": "session.created", "session": self.session})
        for raw in list(self.server.script.frames_after_connect):
            self.send_raw(raw)
        try:
            while not self.server.stopping.is_set():
                message = self.ws.receive()
                if message is None:
                    break
                if self.server.script.close_after_session_update and \
                        '"session.update"' in str(message):
                    self.ws.send_close(1011, "closing right after session.update")
                    break
                if not self.server.script.frozen:
                    self._handle(message)
        except ProtocolViolationError as exc:
            self.server.violation(f"websocket protocol: {exc}")
            self.ws.send_close(1002, "protocol error")
        finally:
            self._cancel_response("client_cancelled", quiet=True)
            for thread in self._threads:
                thread.join(10)

    def send(self, event: dict[str, Any]) -> None:
        event = {"event_id": new_id("event"), **event}
        self.server.record("out", "realtime", event)
        self._send_text(json.dumps(event))

    def send_raw(self, raw: str) -> None:
        self.server.record("out", "realtime", raw, validate=False)
        self._send_text(raw)

    def _send_text(self, text: str) -> None:
        with contextlib.suppress(OSError, ConnectionError):  # client gone: the reader notices
            self.ws.send_text(text)

    def error(self, message: str, code: str, client_event_id: str | None = None) -> None:
        self.send(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "param": None,
                    "event_id": client_event_id,
                },
            }
        )

    # --- client events --------------------------------------------------------------

    def _handle(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self.server.violation("client sent a binary frame; the API takes JSON text")
            return
        try:
            frame = json.loads(message)
        except ValueError:
            self.server.violation(f"client sent malformed JSON: {message[:80]!r}")
            self.error("The frame is not valid JSON.", "invalid_json")
            return
        if not self.server.record("in", "realtime", frame):
            self.error(
                f"Invalid client event {frame.get('type')!r}.",
                "invalid_event",
                frame.get("event_id"),
            )
            return
        if self.server.script.never_answer:
            return
        handler = getattr(self, "_on_" + frame["type"].replace(".", "_"), None)
        if handler is None:
            self.error(
                f"{frame['type']} is not supported here", "unsupported_event", frame.get("event_id")
            )
            return
        with self._lock:
            handler(frame)

    def _on_session_update(self, frame: dict[str, Any]) -> None:
        update = frame["session"]
        if update.get("type") != self.kind:
            self.error(
                f"Passing a {update.get('type')} session update event to a {self.kind} "
                "session is not allowed.",
                "invalid_value",
                frame.get("event_id"),
            )
            return
        self.session = merge_session(self.session, update)
        self.send({"type": "session.updated", "session": self.session})

    def _on_input_audio_buffer_append(self, frame: dict[str, Any]) -> None:
        try:
            pcm = base64.b64decode(frame["audio"], validate=True)
        except (binascii.Error, ValueError):
            self.error("audio is not valid base64", "invalid_value", frame.get("event_id"))
            return
        if len(pcm) % 2:
            self.server.violation("appended audio is not whole PCM16 samples")
            return
        self._buffer += pcm
        if self._turn_detection() is None:
            self._audio_ms += len(pcm) * 1000 // (2 * SAMPLE_RATE)
            return
        self._vad_pending += pcm
        while len(self._vad_pending) >= FRAME_BYTES:
            self._vad_frame(bytes(self._vad_pending[:FRAME_BYTES]))
            del self._vad_pending[:FRAME_BYTES]

    def _on_input_audio_buffer_commit(self, frame: dict[str, Any]) -> None:
        buffered_ms = len(self._buffer) * 1000 // (2 * SAMPLE_RATE)
        if buffered_ms < MIN_COMMIT_MS:
            self.error(
                "Error committing input audio buffer: buffer too small. Expected at "
                f"least 100ms of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
                "input_audio_buffer_commit_empty",
                frame.get("event_id"),
            )
            return
        self._commit(new_id("item"))

    def _on_input_audio_buffer_clear(self, frame: dict[str, Any]) -> None:
        self._buffer.clear()
        self.send({"type": "input_audio_buffer.cleared"})

    def _on_response_create(self, frame: dict[str, Any]) -> None:
        if self.kind != "realtime":
            self.error(
                "response.create is not allowed in a transcription session",
                "invalid_value",
                frame.get("event_id"),
            )
        elif self._response is not None and not self._response.finished.is_set():
            self.error(
                "Conversation already has an active response in progress.",
                "conversation_already_has_active_response",
                frame.get("event_id"),
            )
        else:
            self._start_response()

    def _on_response_cancel(self, frame: dict[str, Any]) -> None:
        if not self._cancel_response("client_cancelled"):
            self.error(
                "Cancellation failed: no active response found",
                "response_cancel_not_active",
                frame.get("event_id"),
            )

    def _on_conversation_item_truncate(self, frame: dict[str, Any]) -> None:
        played = self._assistant_audio_ms.get(frame["item_id"])
        if played is None:
            self.error(
                f"Item {frame['item_id']!r} has no assistant audio to truncate",
                "item_not_found",
                frame.get("event_id"),
            )
        elif frame["audio_end_ms"] > played or frame["content_index"] != 0:
            self.error(
                f"audio_end_ms {frame['audio_end_ms']} is past the {played} ms of audio",
                "invalid_value",
                frame.get("event_id"),
            )
        else:
            self._assistant_audio_ms[frame["item_id"]] = frame["audio_end_ms"]
            self.send(
                {
                    "type": "conversation.item.truncated",
                    "item_id": frame["item_id"],
                    "content_index": 0,
                    "audio_end_ms": frame["audio_end_ms"],
                }
            )

    def _on_conversation_item_create(self, frame: dict[str, Any]) -> None:
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "status": "completed",
            **frame["item"],
        }
        self._item_added(item)

    # --- turns ----------------------------------------------------------------------

    def _turn_detection(self) -> dict[str, Any] | None:
        detection: dict[str, Any] | None = self.session["audio"]["input"].get("turn_detection")
        return detection

    def _vad_frame(self, frame: bytes) -> None:
        rms = float(np.sqrt(np.mean(np.frombuffer(frame, "<i2").astype(np.float64) ** 2)))
        frame_start = self._audio_ms
        self._audio_ms += 20
        loud = rms >= self.server.script.vad_rms_threshold
        detection = self._turn_detection() or {}
        if self._speech_item is None:
            if loud:
                self._speech_item = new_id("item")
                self._speech_start_ms, self._silence_ms = frame_start, 0
                self.send(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": frame_start,
                        "item_id": self._speech_item,
                    }
                )
                if detection.get("interrupt_response", True):
                    self._cancel_response("turn_detected", quiet=True)
            return
        self._silence_ms = 0 if loud else self._silence_ms + 20
        if self._silence_ms >= int(detection.get("silence_duration_ms") or 500):
            item, self._speech_item = self._speech_item, None
            self.send(
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "audio_end_ms": self._audio_ms - self._silence_ms,
                    "item_id": item,
                }
            )
            self._commit(item)
            if self.kind == "realtime" and detection.get("create_response", True):
                self._start_response()

    def _commit(self, item_id: str) -> None:
        previous, self._last_item = self._last_item, item_id
        self._buffer.clear()
        self.send(
            {
                "type": "input_audio_buffer.committed",
                "item_id": item_id,
                "previous_item_id": previous,
            }
        )
        if self.kind == "realtime":
            self._item_added(
                {
                    "id": item_id,
                    "object": "realtime.item",
                    "type": "message",
                    "status": "completed",
                    "role": "user",
                    "content": [{"type": "input_audio", "transcript": None}],
                }
            )
        if self.session["audio"]["input"].get("transcription"):
            self._transcribe(item_id)

    def _transcribe(self, item_id: str) -> None:
        text = self.server.script.transcript
        words = text.split(" ")
        for index, word in enumerate(words):
            self.send(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": item_id,
                    "content_index": 0,
                    "delta": word if index == 0 else " " + word,
                }
            )
        usage = {
            "type": "tokens",
            "total_tokens": 3 + len(words),
            "input_tokens": 3,
            "input_token_details": {"text_tokens": 0, "audio_tokens": 3},
            "output_tokens": len(words),
        }
        self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": text,
                "usage": usage,
            }
        )

    def _item_added(self, item: dict[str, Any]) -> None:
        for kind in ("conversation.item.added", "conversation.item.done"):
            self.send({"type": kind, "item": item, "previous_item_id": self._last_item})
        self._last_item = item["id"]

    def _start_response(self) -> None:
        run = ResponseRun(self, self.server.script.next_reply())
        self._response = run
        thread = threading.Thread(target=run.run, name="fake-openai-response", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _cancel_response(self, reason: str, *, quiet: bool = False) -> bool:
        run = self._response
        if run is None or run.finished.is_set():
            return False
        run.cancel(reason)
        return True

    def finish_item(self, item: dict[str, Any], audio_ms: int | None) -> None:
        with self._lock:
            if audio_ms is not None:
                self._assistant_audio_ms[item["id"]] = audio_ms
            self._last_item = item["id"]
