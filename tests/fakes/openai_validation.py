"""Check every frame the fake server sees or sends against the official SDK models.

The SDK's unions are re-wrapped with a pydantic discriminator on ``type`` (clear
errors for unknown or beta names), and each validated model is walked for keys
it does not declare, because SDK models accept extra keys silently
(``openai-audio-protocol.md`` §9). Each ``check_*`` returns a list of violation
messages; an empty list means the frame is exactly right.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

_SESSION_EVENTS = frozenset({"session.created", "session.updated"})


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpeechUsage(_StrictModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class SpeechAudioDelta(_StrictModel):
    """``speech.audio.delta`` (the SDK has no model for the speech SSE events)."""

    type: Literal["speech.audio.delta"]
    audio: str


class SpeechAudioDone(_StrictModel):
    type: Literal["speech.audio.done"]
    usage: SpeechUsage


def _discriminated(union: Any) -> Any:
    return Annotated[get_args(union)[0], Field(discriminator="type")]


def warm_up() -> None:
    """Import the SDK's models and build the validators (cached for the process)."""
    _adapters()


@cache
def _adapters() -> dict[str, TypeAdapter[Any]]:
    from openai.types.audio import Transcription, TranscriptionStreamEvent
    from openai.types.chat import ChatCompletionChunk
    from openai.types.realtime import (
        RealtimeClientEvent,
        RealtimeServerEvent,
        RealtimeSessionCreateResponse,
        RealtimeTranscriptionSessionCreateResponse,
    )

    return {
        "client": TypeAdapter(_discriminated(RealtimeClientEvent)),
        "server": TypeAdapter(_discriminated(RealtimeServerEvent)),
        "session:realtime": TypeAdapter(RealtimeSessionCreateResponse),
        "session:transcription": TypeAdapter(RealtimeTranscriptionSessionCreateResponse),
        "transcription": TypeAdapter(Transcription),
        "transcription_stream": TypeAdapter(_discriminated(TranscriptionStreamEvent)),
        "chat_chunk": TypeAdapter(ChatCompletionChunk),
        "speech_sse": TypeAdapter(
            Annotated[SpeechAudioDelta | SpeechAudioDone, Field(discriminator="type")]
        ),
    }


def _check(
    adapter: str, payload: Any, *, what: str, skip: frozenset[str] = frozenset()
) -> list[str]:
    try:
        model = _adapters()[adapter].validate_python(payload)
    except ValidationError as exc:
        return [f"{what}: {_short(exc)}"]
    return [f"{what}: undeclared key {path}" for path in undeclared_keys(model, skip=skip)]


def check_client_event(frame: Any) -> list[str]:
    """A client -> server Realtime frame against the GA client union."""
    return _check("client", frame, what=f"client event {_type_of(frame)!r}")


def check_server_event(frame: Any) -> list[str]:
    """A server -> client Realtime frame; sessions against the GA *response* models."""
    kind = _type_of(frame)
    if kind not in _SESSION_EVENTS:
        return _check("server", frame, what=f"server event {kind!r}")
    problems = _check("server", frame, what=f"server event {kind!r}", skip=frozenset({"session"}))
    session = frame.get("session") if isinstance(frame, dict) else None
    session_kind = session.get("type") if isinstance(session, dict) else None
    if session_kind not in ("realtime", "transcription"):
        return [*problems, f"{kind}: session.type must be 'realtime' or 'transcription'"]
    return problems + _check(f"session:{session_kind}", session, what=f"{kind}.session")


def check_transcription(body: Any) -> list[str]:
    return _check("transcription", body, what="transcription response")


def check_transcription_stream_event(event: Any) -> list[str]:
    return _check("transcription_stream", event, what=f"transcription SSE {_type_of(event)!r}")


def check_chat_chunk(chunk: Any) -> list[str]:
    return _check("chat_chunk", chunk, what="chat completion chunk")


def check_speech_sse_event(event: Any) -> list[str]:
    return _check("speech_sse", event, what=f"speech SSE {_type_of(event)!r}")


def undeclared_keys(
    model: Any, path: str = "$", *, skip: frozenset[str] = frozenset()
) -> list[str]:
    """Paths of keys that a validated SDK model (or anything nested in it) did not declare."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        extra = model.__pydantic_extra__ or {}
        found.extend(f"{path}.{key}" for key in extra)
        for name in type(model).model_fields:
            if name in skip:
                continue
            found.extend(undeclared_keys(getattr(model, name), f"{path}.{name}"))
    elif isinstance(model, list | tuple):
        for index, item in enumerate(model):
            found.extend(undeclared_keys(item, f"{path}[{index}]"))
    elif isinstance(model, dict):
        for key, value in model.items():
            found.extend(undeclared_keys(value, f"{path}.{key}"))
    return found


def _type_of(frame: Any) -> str:
    return str(frame.get("type")) if isinstance(frame, dict) else type(frame).__name__


def _short(exc: ValidationError) -> str:
    errors = exc.errors()[:3]
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors) + (
        f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    )
