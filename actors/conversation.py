"""The conversation state machine (pure logic, no threads).

The Controller actor feeds it messages and carries out the effects it returns:
messages to other actors (:class:`Send`), deadlines (:class:`Arm`) and the
state change itself (:class:`Transition`). One handler per state; every state
that waits for something has a deadline, so nothing stays stuck.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from actors import messages as m

if TYPE_CHECKING:
    from drivers.local.level import SpeechLevel

log = logging.getLogger(__name__)

LISTENER, SESSION, PLAYBACK = "listener", "session", "playback"
# Speech that begins this soon after an answer starts cannot be a reaction to it (an
# auditory reaction takes longer): it is the user going on after a pause, not a barge-in.
REACTION_MS = 200


class State(Enum):
    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    MUTED = "muted"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    listen_timeout_s: float = 8.0  # mic open and nobody speaks
    max_utterance_s: float = 30.0  # one user turn at most
    thinking_timeout_s: float = 15.0  # commit -> first answer audio
    speaking_timeout_s: float = 180.0  # one answer at most
    follow_up_s: float = 0.0  # mic reopens this long after an answer (0 = off)
    barge_in: bool = True  # user speech during an answer interrupts it
    server_turns: bool = False  # the provider's VAD decides turns (always listening)
    vad_turns: bool = False  # always listening with the hub's VAD: any speech starts a turn
    earcon_ms: int = 150  # the listening earcon plays before the mic opens
    barge_in_min_speech_ms: int = 250  # the user's speech must last this long to interrupt
    # Speech without a trigger (a follow-up, always listening, a barge-in or a resumed turn
    # by voice) must be this far over the noise floor to be the wearer's (0 = off).
    near_field_snr_db: float = 0.0

    def __post_init__(self) -> None:
        for name in ("listen_timeout_s", "max_utterance_s", "thinking_timeout_s",
                     "speaking_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {getattr(self, name)}")
        if self.follow_up_s < 0 or self.earcon_ms < 0 or self.barge_in_min_speech_ms < 0 \
                or self.near_field_snr_db < 0:
            raise ValueError("follow_up_s, earcon_ms, barge_in_min_speech_ms and "
                             "near_field_snr_db must be >= 0")


# --- effects ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    role: str
    message: object


@dataclass(frozen=True, slots=True)
class Arm:
    """Deliver ``Deadline(token)`` after ``seconds`` (replaces any earlier deadline)."""

    seconds: float
    token: int


@dataclass(frozen=True, slots=True)
class Disarm:
    pass


@dataclass(frozen=True, slots=True)
class Transition:
    old: State
    new: State
    cause: str


Effect = Send | Arm | Disarm | Transition
Handler = Callable[[object], "list[Effect] | None"]


class Conversation:
    """``handle(message)`` returns the effects; ``None``-returning handlers mean 'ignored'."""

    def __init__(
        self, settings: ConversationSettings, clock: Callable[[], int] = time.monotonic_ns
    ) -> None:
        self.settings = settings
        self.state = State.OFFLINE  # until the provider says it is ready
        self.online = False
        self._clock = clock
        self._token = 0
        self._ptt = False  # this turn is push-to-talk: the release commits
        self._heard = False  # speech was heard in this turn
        self._follow_up = False
        self._screened = False  # this turn began without a trigger: it may be the room
        self._untriggered = False  # ... or by always listening: screened by its level too
        self._speech_level: SpeechLevel | None = None  # of the hub-heard speech, latest known
        self._level_measured = False  # ... and past its onset (m.SpeechMeasured)
        # "The user is speaking" is a level: since when (None: quiet), whoever heard it.
        self._speaking_since: int | None = None
        self._deadline_ns = 0  # when the current state's own timeout falls due
        self._barge_check = False  # the armed deadline is a barge-in check, not the timeout
        self._entered_ns = 0  # when the current state began
        self._mute_after_answer = False  # "mute" was said: mute once "Muted." is heard
        self._announcing = False  # SPEAKING a reply no turn asked for (a timer's ring)
        self.audio = True  # the earpiece's capture and playback are there (m.AudioDevices)
        self._handlers: dict[State, Handler] = {
            State.IDLE: self._on_idle,
            State.LISTENING: self._on_listening,
            State.THINKING: self._on_thinking,
            State.SPEAKING: self._on_speaking,
            State.MUTED: self._on_muted,
            State.OFFLINE: self._on_offline,
        }

    # --- entry point ------------------------------------------------------------

    def handle(self, msg: object) -> list[Effect]:
        if isinstance(msg, m.Deadline) and msg.token != self._token:
            return []  # a deadline from a state we already left
        if isinstance(msg, m.SpeechStarted):
            self._speaking_since = msg.at_ns
            self._speech_level, self._level_measured = msg.level, False
        elif isinstance(msg, m.SpeechStopped):
            self._speaking_since = None
            self._speech_level, self._level_measured = msg.level, True
        elif isinstance(msg, m.SpeechMeasured):
            self._speech_level, self._level_measured = msg.level, True
        if isinstance(msg, (m.SpeechStarted, m.SpeechStopped, m.SpeechMeasured)) and \
                msg.level is not None:
            log.debug("%s: %s", type(msg).__name__, _described(msg.level))  # for tuning
        common = self._common(msg)
        if common is not None:
            return common
        effects = self._handlers[self.state](msg)
        if effects is None:
            log.debug("%s ignored in %s", type(msg).__name__, self.state.name)
            return []
        return effects

    def start(self) -> list[Effect]:
        """Effects to run once when the Controller starts."""
        return [Send(LISTENER, m.SetMuted(False)), Send(LISTENER, m.CloseMic())]

    # --- handlers shared by every state ------------------------------------------

    def _common(self, msg: object) -> list[Effect] | None:
        if isinstance(msg, m.ButtonPressed) and msg.press is m.Press.DOUBLE_TAP:
            if self.state is State.MUTED:
                return [Send(LISTENER, m.SetMuted(False)), _earcon("UNMUTED"),
                        *self._rest("unmuted by double tap")]
            return [*self._abort(), _earcon("MUTED"), *self._mute("muted by double tap")]
        if isinstance(msg, m.MuteRequested):
            return self._mute_request(msg.muted)
        audio = self._audio_devices(msg)
        if audio is not None:
            return audio
        if isinstance(msg, m.ProviderOffline):
            was_online, self.online = self.online, False
            if self.state in (State.MUTED, State.OFFLINE):
                return []
            earcon = [_earcon("OFFLINE")] if was_online else []
            return [*self._abort(), *earcon, *self._go(State.OFFLINE, f"provider: {msg.reason}")]
        if isinstance(msg, m.ProviderOnline):
            self.online = True
            if self.state is State.OFFLINE:
                return self._rest("provider reconnected" if msg.reconnected else "provider ready")
            return []
        if isinstance(msg, m.ActorStarted):
            return self._sync(msg.role)
        if isinstance(msg, m.ActorRestarted):
            if self.state is State.MUTED:
                return [Send(LISTENER, m.SetMuted(True))]
            return [*self._abort(), _earcon("ERROR"), *self._rest(f"{msg.role} restarted")]
        return None

    def _audio_devices(self, msg: object) -> list[Effect] | None:
        """The earpiece came or went (m.AudioDevices); while it is away, triggers do nothing."""
        if isinstance(msg, m.AudioDevices):
            self.audio = msg.present
            if msg.present or self.state not in (State.LISTENING, State.THINKING,
                                                 State.SPEAKING):
                return []
            return [*self._abort(), *self._rest(f"earpiece gone: {msg.cause}")]
        if not self.audio and isinstance(msg, (m.ButtonPressed, m.WakeDetected, m.SpeechStarted)):
            log.debug("%s ignored: no earpiece audio", type(msg).__name__)
            return []
        return None

    def _on_idle(self, msg: object) -> list[Effect] | None:
        match msg:
            case m.ButtonPressed(press=m.Press.TAP):
                return self._listen("tap", ptt=False)
            case m.ButtonPressed(press=m.Press.HOLD_START):
                return self._listen("button held", ptt=True)
            case m.WakeDetected(name=name):
                return self._listen(f"wake word {name!r}", ptt=False)
            case m.SpeechStarted(at_ns=at_ns, by=m.HUB) if self.settings.vad_turns:
                return self._listen("speech (always listening)", ptt=False, since_ns=at_ns,
                                    heard=True, untriggered=True)
            case m.SpeechStarted(by=m.PROVIDER) if self.settings.server_turns:
                return self._go(State.LISTENING, "provider heard speech",
                                self.settings.max_utterance_s)
            case m.ReplyAudioStarted() if self.settings.server_turns:
                return self._go(State.SPEAKING, "answer started",
                                self.settings.speaking_timeout_s)
            case m.ReplyAudioStarted():
                # a reply no turn asked for (a timer's ring, a notice): it is stopped like
                # an answer (a tap, a barge-in) and ends in IDLE, not a follow-up window
                effects = self._speak("announcement")
                self._announcing = self.state is State.SPEAKING
                return effects
        return None

    def _on_listening(self, msg: object) -> list[Effect] | None:
        s = self.settings
        match msg:
            case m.SpeechStarted(by=m.HUB):
                if self._heard:
                    return []  # the turn's clock runs from its first speech
                self._heard = True
                return self._arm(s.max_utterance_s)
            case m.SpeechStarted():
                return []
            case m.SpeechStopped(at_ns=at_ns, by=m.HUB):
                if self._heard and not self._ptt and not s.server_turns:
                    return self._far_turn() or self._commit("end of speech", at_ns)
                return []
            case m.ButtonPressed(press=m.Press.HOLD_START):
                self._ptt = True
                return []
            case m.ButtonPressed(press=m.Press.HOLD_END) if self._ptt:
                return self._commit_or_cancel("button released", msg.at_ns)
            case m.ButtonPressed(press=m.Press.TAP):
                return self._commit_or_cancel("tap", msg.at_ns)
            case m.SpeechStopped(by=m.PROVIDER) if s.server_turns:
                return self._go(State.THINKING, "provider heard the end of speech",
                                s.thinking_timeout_s)
            case m.ReplyAudioStarted() if s.server_turns:
                return self._speak("answer started")
            case m.ReplyAudioStarted():
                # the answer to an earlier part of a monologue while the user goes on
                return [Send(PLAYBACK, m.FlushPlayback("the user is still speaking"))]
            case m.Deadline():
                if s.server_turns:
                    return self._rest("no end of speech from the provider")
                far = self._far_turn() if self._heard and not self._ptt else []
                if far:
                    return far
                if self._heard and (self._ptt or self._speaking_since is not None):
                    return self._split()
                if self._heard:
                    return self._commit("utterance too long", self._clock())
                cause = "follow-up window closed" if self._follow_up else "nobody spoke"
                done = [_earcon("DONE")] if self._follow_up else []
                return [*self._abort(), *done, *self._rest(cause)]
        return None

    def _on_thinking(self, msg: object) -> list[Effect] | None:
        s = self.settings
        match msg:
            case m.ReplyAudioStarted():
                return self._speak("answer audio arrived")
            case m.SpeechStarted(at_ns=at_ns, by=m.HUB) if not s.server_turns and \
                    not self._ptt:
                # whatever its level: nothing plays yet, and a turn not taken back would
                # lose these words (a far turn is still screened when it is committed)
                return self._resume(at_ns)
            case m.SpeechStarted(by=m.PROVIDER) if s.server_turns:
                # the provider's VAD took the turn back itself (and drops its answer)
                self._heard = True
                return self._go(State.LISTENING, "the user went on (provider VAD)",
                                s.max_utterance_s)
            case m.ReplyFinished(had_audio=False, status=status) if self._screened:
                return self._rest(f"no answer to speech without a trigger ({status})")
            case m.ReplyFinished(had_audio=False, status=status):
                return self._finish_turn(f"answer ended without audio ({status})")
            case m.ButtonPressed(press=m.Press.TAP):
                return [*self._abort(), *self._rest("interrupted by tap")]
            case m.ButtonPressed(press=m.Press.HOLD_START):
                return [*self._abort(), *self._listen("interrupted by button hold", ptt=True)]
            case m.Deadline():
                return [*self._abort(), _earcon("ERROR"), *self._rest("no answer in time")]
        return None

    def _on_speaking(self, msg: object) -> list[Effect] | None:
        match msg:
            case m.ReplyPlayed() if self._announcing:
                return self._rest("announcement played")
            case m.ReplyPlayed():
                return self._finish_turn("answer played")
            case m.SpeechStarted(at_ns=at_ns, by=m.PROVIDER) if self.settings.barge_in:
                # the provider's VAD decided (and drops its answer itself): stop now
                return [*self._abort(), *self._listen("barge-in (provider VAD)", ptt=False,
                                                      since_ns=at_ns, heard=True)]
            case m.SpeechStarted(at_ns=at_ns, by=m.HUB) if \
                    at_ns < self._entered_ns + REACTION_MS * 1_000_000 and \
                    not self.settings.server_turns and not self._ptt and not self._announcing:
                if not self._near("no turn taken back"):
                    return []
                return self._resume(at_ns)  # not a reaction to the answer: the turn goes on
            case m.SpeechStarted() | m.SpeechMeasured() if self.settings.barge_in and \
                    not self._barge_check:
                return self._check_barge_in()
            case m.SpeechStopped() if self._barge_check:
                self._barge_check = False  # too short to interrupt: back to the timeout
                return self._arm_until(self._deadline_ns)
            case m.WakeDetected():
                return [*self._abort(), *self._listen("barge-in by wake word", ptt=False)]
            case m.ButtonPressed(press=m.Press.TAP):
                return [*self._abort(), *self._rest("interrupted by tap")]
            case m.ButtonPressed(press=m.Press.HOLD_START):
                return [*self._abort(), *self._listen("interrupted by button hold", ptt=True)]
            case m.Deadline() if self._barge_check:
                self._barge_check = False
                return self._check_barge_in() or self._arm_until(self._deadline_ns)
            case m.Deadline():
                return [*self._abort(), *self._rest("answer took too long")]
        return None

    def _on_muted(self, msg: object) -> list[Effect] | None:
        return None  # only a double tap (handled in _common) leaves MUTED

    def _on_offline(self, msg: object) -> list[Effect] | None:
        match msg:
            case m.ButtonPressed(press=m.Press.TAP | m.Press.HOLD_START) | m.WakeDetected():
                return [_earcon("OFFLINE")]
        return None

    def _mute_request(self, muted: bool) -> list[Effect]:
        """Mute by voice; unmuting by voice cannot happen (a muted mic hears nothing)."""
        if not muted or self.state is State.MUTED:
            return []
        if self.state in (State.THINKING, State.SPEAKING):
            self._mute_after_answer = True  # let the spoken confirmation play first
            return []
        return [*self._abort(), *self._mute("muted by request")]

    def _mute(self, cause: str) -> list[Effect]:
        self._mute_after_answer = False
        self._speaking_since = None  # the Listener starts its detectors afresh
        return [Send(LISTENER, m.SetMuted(True)), *self._go(State.MUTED, cause)]

    # --- building blocks --------------------------------------------------------

    def _sync(self, role: str) -> list[Effect]:
        """What a (re)started Listener must be told to match the current state."""
        if role != LISTENER:
            return []
        self._speaking_since = None  # a new Listener has heard nothing yet
        mic_open = self.state is State.LISTENING or (
            self.settings.server_turns and self.online
            and self.state not in (State.MUTED, State.OFFLINE))
        mic: object = m.OpenMic(self._clock()) if mic_open else m.CloseMic()
        return [Send(LISTENER, m.SetMuted(self.state is State.MUTED)), Send(LISTENER, mic)]

    def _listen(self, cause: str, *, ptt: bool, since_ns: int | None = None,
                heard: bool = False, follow_up: bool = False,
                screened: bool = False, untriggered: bool = False) -> list[Effect]:
        self._ptt, self._heard, self._follow_up = ptt, heard, follow_up
        self._screened = screened
        self._untriggered = untriggered or screened
        s = self.settings
        if self._speaking_since is not None and not ptt:
            # they are already talking (on from the wake word, or into the follow-up window)
            heard = self._heard = True
            if follow_up:
                since_ns = self._speaking_since
        effects: list[Effect] = []
        if since_ns is None:
            quiet = follow_up or s.server_turns
            if not quiet:
                effects.append(_earcon("WAKE"))
            since_ns = self._clock() + (0 if quiet else s.earcon_ms * 1_000_000)
        if not s.server_turns:
            effects.append(Send(LISTENER, m.OpenMic(since_ns)))
        timeout = s.follow_up_s if follow_up else s.listen_timeout_s
        if heard:
            timeout = s.max_utterance_s
        return effects + self._go(State.LISTENING, cause, timeout)

    def _commit(self, cause: str, speech_end_ns: int) -> list[Effect]:
        # the turn's speech is over for the conversation, even before the VAD's endpoint
        # (a button release): only new speech can continue the turn or interrupt the answer
        self._speaking_since = None
        commit = m.CommitTurn(speech_end_ns, screened=self._screened)
        return [Send(LISTENER, m.CloseMic(then=commit)),
                *self._go(State.THINKING, cause, self.settings.thinking_timeout_s)]

    def _split(self) -> list[Effect]:
        """The turn reached ``max_utterance_s`` while the user goes on: commit what was
        said and keep listening; the mic stays open, so nothing falls between the turns."""
        log.info("turn split: the user spoke for %.0f s", self.settings.max_utterance_s)
        commit = m.CommitTurn(self._clock(), screened=self._screened)
        self._screened = True  # speech this long may be the room (a television, a talk)
        return [Send(LISTENER, m.SplitTurn(commit)), *self._arm(self.settings.max_utterance_s)]

    def _resume(self, at_ns: int) -> list[Effect]:
        """Speech that began while the answer was being prepared, or too early in it to be
        a reaction to it (its start is confirmed a little later): the user was not done.
        Drop the answer and reopen the same turn; the Session takes its audio back."""
        self._heard = True
        return [*self._abort(), Send(LISTENER, m.OpenMic(at_ns, resume=True)),
                *self._go(State.LISTENING, "the user went on speaking",
                          self.settings.max_utterance_s)]

    def _speak(self, cause: str) -> list[Effect]:
        effects = self._go(State.SPEAKING, cause, self.settings.speaking_timeout_s)
        if self._speaking_since is not None and self.settings.barge_in:
            effects += self._check_barge_in()  # speech already under way counts too
        return effects

    def _check_barge_in(self) -> list[Effect]:
        """Barge in once the user's speech has lasted ``barge_in_min_speech_ms``; until
        then the deadline is a check (the answer's own timeout is re-armed after it)."""
        since = self._speaking_since
        if since is None:
            return []
        if not self._level_measured and self._far():
            return []  # a soft onset: judged once more of it is heard (m.SpeechMeasured)
        if not self._near("no barge-in"):
            return []
        left_s = (since + self.settings.barge_in_min_speech_ms * 1_000_000
                  - self._clock()) / 1e9
        if left_s > 0:
            self._barge_check = True
            return [Arm(left_s, self._next_token())]
        return [*self._abort(), *self._listen("barge-in by voice", ptt=False, since_ns=since,
                                              heard=True, screened=True)]

    def _far(self) -> bool:
        """The speech heard last is too quiet over the noise floor to be the wearer's."""
        level, limit = self._speech_level, self.settings.near_field_snr_db
        return limit > 0 and level is not None and level.snr_db < limit

    def _near(self, otherwise: str) -> bool:
        """Whether the speech just started may act as the wearer's (else say why not)."""
        if not self._far():
            return True
        assert self._speech_level is not None  # _far() saw it
        log.info("%s: not the wearer, %s", _described(self._speech_level), otherwise)
        return False

    def _far_turn(self) -> list[Effect]:
        """A turn without a trigger whose speech is far-field: cancelled, nothing answered."""
        if not self._untriggered or not self._far():
            return []
        assert self._speech_level is not None  # _far() saw it
        return [*self._abort(),
                *self._rest(f"{_described(self._speech_level)}: not the wearer, ignored")]

    def _arm(self, seconds: float) -> list[Effect]:
        """Arm the current state's own timeout anew."""
        self._deadline_ns = self._clock() + int(seconds * 1e9)
        return [Arm(seconds, self._next_token())]

    def _arm_until(self, deadline_ns: int) -> list[Effect]:
        return [Arm(max(0.0, (deadline_ns - self._clock()) / 1e9), self._next_token())]

    def _commit_or_cancel(self, cause: str, at_ns: int) -> list[Effect]:
        if self._heard:
            return self._commit(cause, at_ns)
        return [*self._abort(), *self._rest(f"{cause} before any speech")]

    def _finish_turn(self, cause: str) -> list[Effect]:
        if self._mute_after_answer:
            return self._mute(f"{cause}; muted as asked")
        if self.settings.follow_up_s > 0 and not self.settings.server_turns:
            return self._listen(f"{cause}; follow-up window", ptt=False, follow_up=True,
                                screened=True)
        return self._rest(cause)

    def _abort(self) -> list[Effect]:
        """Undo whatever the current state has going (mic, turn, answer)."""
        if self.state is State.LISTENING and not self.settings.server_turns:
            return [Send(LISTENER, m.CloseMic(then=m.CancelTurn()))]
        if self.state in (State.THINKING, State.SPEAKING):
            return [Send(PLAYBACK, m.FlushPlayback(f"interrupted while {self.state.value}"))]
        return []

    def _rest(self, cause: str) -> list[Effect]:
        """Back to IDLE, or OFFLINE when the provider is away (MUTED if that was asked)."""
        if self._mute_after_answer:
            return self._mute(f"{cause}; muted as asked")
        effects: list[Effect] = []
        if self.settings.server_turns and self.online:
            effects.append(Send(LISTENER, m.OpenMic(self._clock())))  # always listening
        if self.online:
            return effects + self._go(State.IDLE, cause)
        return self._go(State.OFFLINE, cause)

    def _go(self, new: State, cause: str, timeout_s: float | None = None) -> list[Effect]:
        old, self.state = self.state, new
        token = self._next_token()
        self._barge_check = False
        self._announcing = False
        self._entered_ns = self._clock()
        log.info("state %s -> %s (%s)", old.name, new.name, cause)
        deadline: Effect = Disarm() if timeout_s is None else Arm(timeout_s, token)
        self._deadline_ns = self._clock() + int((timeout_s or 0.0) * 1e9)
        if new is State.OFFLINE or new is State.MUTED:
            extra: list[Effect] = [Send(LISTENER, m.CloseMic())]
        else:
            extra = []
        return [*extra, deadline, Transition(old, new, cause)]

    def _next_token(self) -> int:
        self._token += 1
        return self._token


def _described(level: SpeechLevel) -> str:
    return f"{level.describe()} ({level.floor_dbfs:.0f} dBFS)"


def _earcon(kind: str) -> Send:
    return Send(PLAYBACK, m.PlayEarcon(kind))
