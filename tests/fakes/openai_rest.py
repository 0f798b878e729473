"""The fake server's REST endpoints: transcriptions, speech and chat completions.

Each takes the request (already authenticated and recorded) and answers through
the :class:`Exchange` the server hands it, exactly in the wire shapes of
``openai-audio-protocol.md`` §5-7. Streamed events are validated as they go out.
"""

from __future__ import annotations

import base64
import io
import time
import wave
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from speech_api.audio import decode_audio, format_for_path
from speech_api.errors import AudioError
from tests.fakes import openai_validation as check
from tests.fakes.openai_script import SAMPLE_RATE, FakeScript, new_id

NON_STREAMING_STT = frozenset({"whisper-1"})
SPEECH_FORMATS = frozenset({"mp3", "opus", "flac", "wav", "pcm"})


class Exchange(Protocol):
    """What an endpoint needs from the HTTP layer."""

    @property
    def script(self) -> FakeScript: ...

    def send_json(
        self, status: int, body: object, *, validate: Callable[[Any], list[str]] | None = None
    ) -> None: ...
    def send_error_json(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None
    ) -> None: ...
    def send_body(self, status: int, content_type: str, body: bytes) -> None: ...
    def start_stream(self, content_type: str) -> None: ...
    def write_chunk(self, data: bytes) -> None: ...
    def sse(self, event: object, validate: Callable[[Any], list[str]] | None = None) -> None: ...
    def end_stream(self) -> None: ...
    def pause(self, seconds: float) -> None: ...


def transcriptions(ex: Exchange, form: dict[str, Any]) -> None:
    """``POST /v1/audio/transcriptions`` (multipart; json, text, verbose_json, SSE)."""
    upload = form.get("file")
    model = form.get("model")
    if not isinstance(upload, tuple) or not isinstance(model, str):
        ex.send_error_json(400, "'file' and 'model' are required", param="file")
        return
    filename, data = upload
    try:
        audio = decode_audio(data, format_for_path(filename), name=filename)
    except AudioError as exc:
        ex.send_error_json(400, f"Invalid file format: {exc}", param="file")
        return
    seconds = (audio.duration_ms or 0) / 1000
    text = ex.script.transcript
    fmt = form.get("response_format", "json")
    if form.get("stream") == "true" and model not in NON_STREAMING_STT:
        _stream_transcript(ex, text)
    elif fmt == "text":
        ex.send_body(200, "text/plain; charset=utf-8", text.encode())
    elif fmt == "verbose_json":
        ex.send_json(
            200,
            {
                "task": "transcribe",
                "language": "english",
                "duration": seconds,
                "text": text,
                "usage": {"type": "duration", "seconds": seconds},
            },
        )
    elif fmt == "json":
        usage: dict[str, Any] = {"type": "duration", "seconds": seconds}
        if model not in NON_STREAMING_STT:
            usage = _token_usage(len(text.split()))
        ex.send_json(200, {"text": text, "usage": usage}, validate=check.check_transcription)
    else:
        ex.send_error_json(
            400, f"response_format {fmt!r} is not supported by this fake", param="response_format"
        )


def _token_usage(words: int) -> dict[str, Any]:
    return {
        "type": "tokens",
        "input_tokens": 10,
        "output_tokens": words,
        "total_tokens": 10 + words,
        "input_token_details": {"text_tokens": 0, "audio_tokens": 10},
    }


def _stream_transcript(ex: Exchange, text: str) -> None:
    ex.start_stream("text/event-stream")
    for index, word in enumerate(text.split(" ")):
        ex.sse(
            {"type": "transcript.text.delta", "delta": word if index == 0 else " " + word},
            check.check_transcription_stream_event,
        )
        ex.pause(ex.script.stream_pace_s)
    ex.sse(
        {"type": "transcript.text.done", "text": text, "usage": _token_usage(len(text.split()))},
        check.check_transcription_stream_event,
    )
    ex.end_stream()


def speech(ex: Exchange, body: dict[str, Any]) -> None:
    """``POST /v1/audio/speech`` (JSON in; audio bytes, chunked, or SSE out)."""
    missing = [k for k in ("model", "input", "voice") if not body.get(k)]
    if missing:
        ex.send_error_json(400, f"Missing required parameter: {missing[0]!r}", param=missing[0])
        return
    fmt = body.get("response_format", "mp3")
    if fmt not in SPEECH_FORMATS:
        ex.send_error_json(
            400, f"response_format {fmt!r} is not supported by this fake", param="response_format"
        )
        return
    pcm = ex.script.speech_audio(str(body["input"]))
    if body.get("stream_format") == "sse":
        ex.start_stream("text/event-stream")
        for piece in _pieces(pcm if fmt == "pcm" else encode_audio(pcm, fmt), 9600):
            ex.sse(
                {"type": "speech.audio.delta", "audio": base64.b64encode(piece).decode()},
                check.check_speech_sse_event,
            )
            ex.pause(ex.script.stream_pace_s)
        ex.sse(
            {
                "type": "speech.audio.done",
                "usage": {"input_tokens": 5, "output_tokens": 50, "total_tokens": 55},
            },
            check.check_speech_sse_event,
        )
        ex.end_stream()
        return
    ex.start_stream("application/octet-stream")
    for piece in _pieces(encode_audio(pcm, fmt), 9600):
        ex.write_chunk(piece)
        ex.pause(ex.script.stream_pace_s)
    ex.end_stream()


def encode_audio(pcm: bytes, fmt: str) -> bytes:
    """24 kHz mono PCM16 as ``fmt`` (pcm, wav, flac, mp3, opus)."""
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(pcm)
        return buf.getvalue()
    import soundfile

    kinds = {"flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS")}
    container, subtype = kinds[fmt]
    buf = io.BytesIO()
    samples = np.frombuffer(pcm, "<i2")
    rate = 48000 if fmt == "opus" else SAMPLE_RATE
    if rate != SAMPLE_RATE:
        samples = np.repeat(samples, 2)  # opus has no 24 kHz mode in libsndfile; 2x is exact
    soundfile.write(buf, samples, rate, format=container, subtype=subtype)
    return buf.getvalue()


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def chat_completions(ex: Exchange, body: dict[str, Any]) -> None:
    """``POST /v1/chat/completions``; streams ``chat.completion.chunk`` SSE then ``[DONE]``."""
    if not isinstance(body.get("messages"), list) or not body.get("model"):
        ex.send_error_json(400, "'model' and 'messages' are required", param="messages")
        return
    reply = ex.script.next_chat_reply()
    base = {
        "id": new_id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body["model"],
        "system_fingerprint": None,
    }
    if not body.get("stream"):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text or None,
            "refusal": None,
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.call_id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in reply.tool_calls
            ]
        ex.send_json(
            200,
            {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    }
                ],
            },
        )
        return

    def chunk(delta: dict[str, Any], finish: str | None = None) -> None:
        ex.sse(
            {
                **base,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            },
            check.check_chat_chunk,
        )
        ex.pause(reply.pace_s or ex.script.stream_pace_s)

    ex.start_stream("text/event-stream")
    chunk({"role": "assistant", "content": ""})
    words = reply.text.split(" ") if reply.text else []
    for index, word in enumerate(words):
        chunk({"content": word if index == 0 else " " + word})
    for index, call in enumerate(reply.tool_calls):
        half = len(call.arguments) // 2
        chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.call_id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        for part in (call.arguments[:half], call.arguments[half:]):
            chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        ex.sse(
            {
                **base,
                "choices": [],
                "usage": {
                    "prompt_tokens": 5,
                    "completion_tokens": len(words),
                    "total_tokens": 5 + len(words),
                },
            },
            check.check_chat_chunk,
        )
    ex.write_chunk(b"data: [DONE]\n\n")
    ex.end_stream()
