"""The GA Realtime wire format: client frames we build, server frames we read.

Pure functions and one small stateful mapper, no I/O, so the protocol is easy to
test and to read next to ``openai-audio-protocol.md``. Only GA names are used
(``session.type``, nested ``audio.input/output``, ``response.output_audio.*``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from drivers.openai.errors import FATAL_CODES
from speech_api.events import (
    AudioDelta,
    FunctionCall,
    InputTranscript,
    ProviderError,
    RealtimeEvent,
    RealtimeSessionConfig,
    ResponseDone,
    ResponseStarted,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TurnDetection,
)

log = logging.getLogger(__name__)

SessionKind = Literal["realtime", "transcription"]
REALTIME_RATE = 24000
PCM_FORMAT: dict[str, Any] = {"type": "audio/pcm", "rate": REALTIME_RATE}

# Server events we understand but have nothing to report for.
_QUIET_TYPES = frozenset(
    {
        "session.created",
        "conversation.created",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.created",
        "conversation.item.retrieved",
        "conversation.item.deleted",
        "conversation.item.truncated",
        "conversation.item.input_audio_transcription.segment",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "rate_limits.updated",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.output_text.done",
        "response.function_call_arguments.delta",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
    }
)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Everything ``session.update`` carries; replayed after every reconnect."""

    kind: SessionKind
    config: RealtimeSessionConfig = field(default_factory=RealtimeSessionConfig)
    voice: str | None = None
    instructions: str | None = None
    input_transcription_model: str | None = "gpt-4o-mini-transcribe"


def session_update(settings: SessionSettings) -> dict[str, Any]:
    """The ``session.update`` client event for these settings."""
    cfg = settings.config
    audio_input: dict[str, Any] = {
        "format": dict(PCM_FORMAT),
        "noise_reduction": {"type": cfg.noise_reduction} if cfg.noise_reduction else None,
        "turn_detection": _turn_detection(cfg, settings.kind),
    }
    if settings.kind == "transcription":
        audio_input["transcription"] = _transcription(cfg.model, cfg)
        return {
            "type": "session.update",
            "session": {"type": "transcription", "audio": {"input": audio_input}},
        }
    if settings.input_transcription_model:
        audio_input["transcription"] = _transcription(settings.input_transcription_model, cfg)
    session: dict[str, Any] = {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {
            "input": audio_input,
            "output": {"format": dict(PCM_FORMAT), "voice": settings.voice or cfg.voice},
        },
    }
    instructions = settings.instructions if settings.instructions is not None else cfg.instructions
    if instructions is not None:
        session["instructions"] = instructions
    if cfg.tools:
        session["tools"] = [realtime_tool(tool) for tool in cfg.tools]
        session["tool_choice"] = "auto"
    return {"type": "session.update", "session": session}


def _transcription(model: str, cfg: RealtimeSessionConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model}
    if cfg.language:
        out["language"] = cfg.language
    if cfg.prompt:
        out["prompt"] = cfg.prompt
    return out


def _turn_detection(cfg: RealtimeSessionConfig, kind: SessionKind) -> dict[str, Any] | None:
    if cfg.turn_detection is TurnDetection.NONE:
        return None
    if cfg.turn_detection is TurnDetection.SEMANTIC_VAD:
        out: dict[str, Any] = {"type": "semantic_vad"}
    else:
        out = {
            "type": "server_vad",
            "threshold": cfg.vad_threshold,
            "prefix_padding_ms": cfg.prefix_padding_ms,
            "silence_duration_ms": cfg.silence_duration_ms,
        }
    if kind == "realtime":
        out.update(create_response=True, interrupt_response=True)
    return out


def realtime_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A function tool in the Realtime shape; accepts the Chat Completions shape too."""
    spec = tool.get("function", tool)
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(f"a tool needs a string 'name' or a 'function' holding one: {tool!r}")
    out: dict[str, Any] = {"type": "function", "name": spec["name"]}
    if "description" in spec:
        out["description"] = spec["description"]
    out["parameters"] = spec.get("parameters", {"type": "object", "properties": {}})
    return out


def append_audio(pcm24k: bytes) -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm24k).decode()}


def truncate(item_id: str, content_index: int, audio_end_ms: int) -> dict[str, Any]:
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": content_index,
        "audio_end_ms": audio_end_ms,
    }


def tool_result(call_id: str, output: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": call_id, "output": output},
    }


class ServerEventMapper:
    """Turns server frames into provider-neutral events.

    ``expect_ready(reconnected)`` is called whenever a ``session.update`` was sent;
    the next ``session.updated`` then becomes ``SessionReady(reconnected=...)``.
    Malformed frames and unknown types are logged and dropped (return ``[]``).
    """

    def __init__(self) -> None:
        self._ready_reconnected = False
        self.dropped_frames = 0

    def expect_ready(self, reconnected: bool) -> None:
        self._ready_reconnected = reconnected

    def map(self, raw: str) -> list[RealtimeEvent]:
        try:
            frame = json.loads(raw)
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise ValueError("not a JSON object with a string 'type'")
            return self._map(frame)
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError) as exc:
            self.dropped_frames += 1
            log.warning("dropping malformed realtime frame (%s): %.200s", exc, raw)
            return []

    def _map(self, f: dict[str, Any]) -> list[RealtimeEvent]:
        kind = f["type"]
        if kind == "session.updated":
            reconnected, self._ready_reconnected = self._ready_reconnected, False
            return [SessionReady(reconnected=reconnected)]
        if kind == "input_audio_buffer.speech_started":
            return [
                SpeechStarted(item_id=_str(f, "item_id"), audio_start_ms=_int(f, "audio_start_ms"))
            ]
        if kind == "input_audio_buffer.speech_stopped":
            return [SpeechStopped(item_id=_str(f, "item_id"), audio_end_ms=_int(f, "audio_end_ms"))]
        if kind == "conversation.item.input_audio_transcription.delta":
            delta = f.get("delta") or ""
            return [InputTranscript(item_id=_str(f, "item_id"), text=_text(delta), is_final=False)]
        if kind == "conversation.item.input_audio_transcription.completed":
            return [
                InputTranscript(
                    item_id=_str(f, "item_id"), text=_str(f, "transcript"), is_final=True
                )
            ]
        if kind == "conversation.item.input_audio_transcription.failed":
            err = _obj(f.get("error") or {})
            return [
                ProviderError(
                    message=f"input transcription failed: {err.get('message', '')}",
                    code=_code(err),
                )
            ]
        if kind == "response.created":
            return [ResponseStarted(response_id=_str(_obj(f["response"]), "id"))]
        if kind == "response.output_audio.delta":
            pcm = base64.b64decode(_str(f, "delta"), validate=True)
            if len(pcm) % 2:
                raise ValueError(f"audio delta of {len(pcm)} bytes is not whole PCM16 samples")
            return [
                AudioDelta(
                    response_id=_str(f, "response_id"),
                    item_id=_str(f, "item_id"),
                    content_index=_int(f, "content_index"),
                    pcm=pcm,
                )
            ]
        if kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            return [
                TranscriptDelta(
                    response_id=_str(f, "response_id"),
                    item_id=_str(f, "item_id"),
                    delta=_str(f, "delta"),
                )
            ]
        if kind == "response.function_call_arguments.done":
            return [
                FunctionCall(
                    call_id=_str(f, "call_id"),
                    name=_str(f, "name"),
                    arguments=_str(f, "arguments"),
                    response_id=_str(f, "response_id"),
                    item_id=_str(f, "item_id"),
                )
            ]
        if kind == "response.done":
            response = _obj(f["response"])
            return [
                ResponseDone(
                    response_id=_str(response, "id"),
                    status=_text(response.get("status", "")),
                    transcript=_response_transcript(response),
                )
            ]
        if kind == "error":
            err = _obj(f["error"])
            code = _code(err)
            return [
                ProviderError(
                    message=str(err.get("message", "")), code=code, fatal=code in FATAL_CODES
                )
            ]
        if kind not in _QUIET_TYPES:
            self.dropped_frames += 1
            log.warning("dropping realtime event of unknown type %r", kind)
        return []


# Field readers: a field of the wrong type makes the whole frame malformed (dropped),
# so no event carries a value of a type its consumers do not expect.


def _obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _str(f: dict[str, Any], key: str) -> str:
    value = f[key]
    if not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string, got {type(value).__name__}")
    return value


def _int(f: dict[str, Any], key: str) -> int:
    value = f[key]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**53:
        raise TypeError(f"{key!r} must be a non-negative integer, got {value!r:.40}")
    return value


def _code(err: dict[str, Any]) -> str | None:
    code = err.get("code")
    return code if isinstance(code, str) else None


def _response_transcript(response: dict[str, Any]) -> str:
    parts: list[str] = []
    output = response.get("output") or []
    for item in output if isinstance(output, list) else []:
        contents = item.get("content") or [] if isinstance(item, dict) else []
        for content in contents if isinstance(contents, list) else []:
            if not isinstance(content, dict):
                continue
            text = content.get("transcript") or content.get("text")
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)
