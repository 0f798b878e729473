"""Session settings and the events the realtime modes produce.

Events are small frozen dataclasses so that they can cross threads and actors
safely. Providers turn their own wire events into these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class TurnDetection(Enum):
    """Who decides when the user has finished speaking."""

    SERVER_VAD = "server_vad"
    SEMANTIC_VAD = "semantic_vad"
    NONE = "none"  # the client commits (button release, local VAD)


@dataclass(frozen=True, slots=True)
class RealtimeSessionConfig:
    """Settings for a realtime transcription or speech-to-speech session."""

    model: str = "gpt-4o-transcribe"
    language: str | None = None
    prompt: str | None = None
    enable_partial_results: bool = True
    turn_detection: TurnDetection = TurnDetection.SERVER_VAD
    vad_threshold: float = 0.5
    silence_duration_ms: int = 500
    prefix_padding_ms: int = 300
    noise_reduction: str | None = "near_field"  # "near_field", "far_field" or None
    voice: str = "marin"
    instructions: str | None = None
    tools: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TranscriptionEvent:
    """A piece of transcript from a realtime transcription.

    ``is_final`` False means a partial (delta) that later text may extend;
    ``text`` of a partial is the delta, of a final the whole utterance.
    """

    text: str
    is_final: bool
    item_id: str | None = None
    received_at_ns: int = field(default_factory=time.monotonic_ns)


# --- realtime speech-to-speech events (provider-neutral) ---------------------------


@dataclass(frozen=True, slots=True)
class RealtimeEvent:
    """Base of the events a speech-to-speech session yields."""

    received_at_ns: int = field(default_factory=time.monotonic_ns, kw_only=True)


@dataclass(frozen=True, slots=True)
class SessionReady(RealtimeEvent):
    """The session is configured (also after a reconnect replayed the settings)."""

    reconnected: bool = False


@dataclass(frozen=True, slots=True)
class ConnectionLost(RealtimeEvent):
    """The link dropped; the session is trying to reconnect."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class SpeechStarted(RealtimeEvent):
    """The provider's VAD heard the user start speaking."""

    item_id: str = ""
    audio_start_ms: int = 0


@dataclass(frozen=True, slots=True)
class SpeechStopped(RealtimeEvent):
    """The provider's VAD heard the user stop speaking."""

    item_id: str = ""
    audio_end_ms: int = 0


@dataclass(frozen=True, slots=True)
class InputTranscript(RealtimeEvent):
    """Transcript of what the user said (partial or final)."""

    item_id: str
    text: str
    is_final: bool


@dataclass(frozen=True, slots=True)
class ResponseStarted(RealtimeEvent):
    response_id: str


@dataclass(frozen=True, slots=True)
class AudioDelta(RealtimeEvent):
    """A piece of the assistant's spoken answer, PCM16 mono."""

    response_id: str
    item_id: str
    content_index: int
    pcm: bytes
    sample_rate: int = 24000


@dataclass(frozen=True, slots=True)
class TranscriptDelta(RealtimeEvent):
    """A piece of the text of the assistant's answer."""

    response_id: str
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class FunctionCall(RealtimeEvent):
    """The model asks the client to run a tool."""

    call_id: str
    name: str
    arguments: str
    response_id: str = ""
    item_id: str = ""


@dataclass(frozen=True, slots=True)
class ResponseDone(RealtimeEvent):
    """A response finished (``status``: completed, cancelled, failed, incomplete)."""

    response_id: str
    status: str = "completed"
    transcript: str = ""


@dataclass(frozen=True, slots=True)
class ProviderError(RealtimeEvent):
    """The provider reported an error; ``fatal`` ones end the session."""

    message: str
    code: str | None = None
    fatal: bool = False


# --- voice-agent events (speech_api.agents) ----------------------------------------


@dataclass(frozen=True, slots=True)
class ToolResult(RealtimeEvent):
    """A tool the model called has run; ``output`` went back to the model."""

    call_id: str
    name: str
    output: str


@dataclass(frozen=True, slots=True)
class TurnTiming(RealtimeEvent):
    """How long one answer took, in ms from the end of the user's turn (None: not reached).

    ``transcribed_ms``: the user's words known; ``first_text_ms``: the first words
    of the answer; ``first_audio_ms``: the first answer audio handed to the sink;
    ``total_ms``: the answer finished (or was cancelled).
    """

    response_id: str
    transcribed_ms: float | None
    first_text_ms: float | None
    first_audio_ms: float | None
    total_ms: float
