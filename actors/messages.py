"""The immutable messages the hub's actors exchange.

Every message is a frozen, slotted dataclass so it can cross threads without
copies or locks. Times are ``time.monotonic_ns()`` values so each hop's latency
can be measured. Audio itself travels as :class:`speech_api.AudioChunk`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.button_logic import ButtonEventKind
from speech_api import AudioChunk
from speech_api.events import RealtimeEvent

if TYPE_CHECKING:
    from drivers.local.level import SpeechLevel


def _now() -> int:
    return time.monotonic_ns()


# --- audio ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioReady:
    """Nudge: captured audio waits in the shared mailbox (the audio is not in the message,
    so a control message is never queued behind a backlog of audio)."""


@dataclass(frozen=True, slots=True)
class HubIdle:
    """The Controller waits for a trigger (IDLE, OFFLINE, MUTED) or not: while it is idle
    and the mic is closed, nothing the Listener hears has to be acted on within a chunk
    (no answer to interrupt), so it may take its audio in batches (fewer wake-ups)."""

    idle: bool


@dataclass(frozen=True, slots=True)
class UserAudioReady:
    """Nudge to the Session: microphone audio for the provider waits in its mailbox."""


@dataclass(frozen=True, slots=True)
class PlayReply:
    """A piece of the assistant's answer for the speaker."""

    chunk: AudioChunk
    item_id: str
    response_id: str


@dataclass(frozen=True, slots=True)
class PlayEarcon:
    """Play a feedback sound (never sent to the provider)."""

    kind: str  # drivers.earcons.Earcon member name


@dataclass(frozen=True, slots=True)
class EndOfReply:
    """The provider finished sending ``response_id``; report when it has been heard."""

    response_id: str


# --- the user's speech (the hub's VAD or the provider's) -------------------------------

HUB, PROVIDER = "hub", "provider"  # who heard it: the Listener's VAD or the provider's


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The user started speaking (``at_ns``: the first speech frame, or when the provider
    said so). From the hub's VAD it comes once the speech held ``vad.min_speech_ms``, with
    the ``level`` of its onset against the noise floor (near-field screening)."""

    at_ns: int = field(default_factory=_now)
    by: str = HUB
    level: SpeechLevel | None = None


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """The user stopped speaking (``at_ns``: the end of the last speech frame). From the
    hub's VAD it comes after ``conversation.endpoint_silence_ms`` of silence, with the
    ``level`` of the whole stretch of speech against the noise floor."""

    at_ns: int = field(default_factory=_now)
    by: str = HUB
    level: SpeechLevel | None = None


@dataclass(frozen=True, slots=True)
class SpeechMeasured:
    """The hub-heard speech under way has lasted ``drivers.local.level.MEASURED_AFTER_MS``:
    its ``level`` so far (a surer measure than its onset's, for a barge-in)."""

    level: SpeechLevel
    at_ns: int = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class WakeDetected:
    name: str
    at_ns: int = field(default_factory=_now)


# --- control (Controller -> Listener / Session / Playback) ----------------------------


@dataclass(frozen=True, slots=True)
class OpenMic:
    """Send microphone audio captured at or after ``since_ns`` to the Session.

    ``resume``: the user went on speaking after the turn was committed; the Session is
    told (:class:`ResumeTurn`) before any of the new audio, so it takes the turn back."""

    since_ns: int
    resume: bool = False


@dataclass(frozen=True, slots=True)
class CloseMic:
    """Stop sending audio; ``then`` (CommitTurn / CancelTurn) goes to the Session after
    the turn's last chunk, so the commit never overtakes audio still on its way."""

    then: CommitTurn | CancelTurn | None = None


@dataclass(frozen=True, slots=True)
class SplitTurn:
    """Commit the turn's audio up to here (``then``) and keep the mic open: the next
    chunk starts the next turn, so a monologue loses nothing between its turns."""

    then: CommitTurn


@dataclass(frozen=True, slots=True)
class SetMuted:
    muted: bool


@dataclass(frozen=True, slots=True)
class CommitTurn:
    """The user finished speaking (``speech_end_ns``): ask for the answer.

    ``screened``: the turn began without a trigger (a follow-up or a barge-in by voice),
    so it may be the room talking: where the engine can tell, answer only a request."""

    speech_end_ns: int = field(default_factory=_now)
    screened: bool = False


@dataclass(frozen=True, slots=True)
class ResumeTurn:
    """The user was not done: drop the answer to the committed turn and take that
    turn's audio back; the audio that follows extends it (Listener -> Session)."""


@dataclass(frozen=True, slots=True)
class CancelTurn:
    """Abandon the user turn (nothing said, timeout, mute)."""


@dataclass(frozen=True, slots=True)
class FlushPlayback:
    """Stop the sound now (barge-in, tap, mute); Playback reports what was heard."""

    reason: str


@dataclass(frozen=True, slots=True)
class PlaybackFlushed:
    """Playback stopped; milliseconds of each item actually played."""

    played_ms: tuple[tuple[str, int], ...]
    at_ns: int = field(default_factory=_now)


# --- provider (Session -> Controller) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A provider-neutral realtime event handed from the engine's reader thread."""

    event: RealtimeEvent


@dataclass(frozen=True, slots=True)
class ProviderOnline:
    reconnected: bool = False


@dataclass(frozen=True, slots=True)
class ProviderOffline:
    reason: str


@dataclass(frozen=True, slots=True)
class ReplyAudioStarted:
    response_id: str
    at_ns: int = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ReplyFinished:
    response_id: str
    status: str
    had_audio: bool


@dataclass(frozen=True, slots=True)
class ReplyPlayed:
    """Playback has played all of ``response_id``."""

    response_id: str


@dataclass(frozen=True, slots=True)
class FirstAudioWritten:
    """The first period of an answer reached the sound device."""

    item_id: str
    at_ns: int


# --- button and timers ----------------------------------------------------------------


# The button gestures the Controller understands are the driver's own kinds.
Press = ButtonEventKind


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    press: Press
    at_ns: int = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class MuteRequested:
    """A spoken "mute" (or a model's set_muted tool call) asks to close the mic."""

    muted: bool


@dataclass(frozen=True, slots=True)
class AudioDevices:
    """The earpiece's audio (capture and playback) came or went (the hub tells, on change).

    Gone mid-turn: the turn ends and the provider is told, like an interruption.
    While gone, triggers are ignored (there is nothing to listen with)."""

    present: bool
    cause: str


@dataclass(frozen=True, slots=True)
class Deadline:
    """A state's timeout fired; ``token`` tells stale timers from the current one."""

    token: int


# --- supervision ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActorFailed:
    role: str
    error: str
    at_ns: int = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class RestartActor:
    role: str


@dataclass(frozen=True, slots=True)
class ActorStarted:
    """An actor finished its setup (first start or restart): the Controller resends it
    what it must know (mute, mic), since earlier messages to it may have been dropped."""

    role: str


@dataclass(frozen=True, slots=True)
class ActorRestarted:
    role: str


@dataclass(frozen=True, slots=True)
class Ping:
    """Asked by the watchdog; any live actor answers True."""


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """A (re)started Controller asks the Session whether the provider is online."""
