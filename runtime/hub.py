"""The hub: assembles the actor graph from the config, runs it, reloads it, stops it.

Start order is downstream first (Supervisor, Playback, Session, Controller,
Listener, Capture) so that nothing is told to an actor that does not exist yet;
stopping). sd_notify: ``READY=1`` once every actor runs, audio or not (the
earpiece may be off for hours: see :mod:`runtime.earpiece_state`), ``STATUS=`` on
every state change, ``WATCHDOG=1`` only while every actor answers a ping.

Without the earpiece's audio the hub waits visibly: one log line per change (not
per retry), ``STATUS=waiting for the earpiece ...``, the LED slow-blinking,
``maigic status`` saying so; triggers are ignored. When the audio comes back, a
"connected" earcon plays; when it goes mid-turn, the turn ends (the provider is
told, as for an interruption) and no actor restarts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pykka

from actors.capture import CaptureActor
from actors.controller import ControllerActor
from actors.engines.transcribe import DRAIN_TIMEOUT_S
from actors.listener import ListenerActor
from actors.mailbox import AudioMailbox
from actors.messages import AudioDevices, ButtonPressed, MuteRequested, Ping, PlayEarcon
from actors.playback import PlaybackActor
from actors.session import SessionActor
from actors.supervisor import ActorFactory, SupervisionPolicy, Supervisor
from actors.wiring import (
    CAPTURE,
    CONTROLLER,
    LISTENER,
    PLAYBACK,
    SESSION,
    SUPERVISOR,
    HubHooks,
    Wiring,
)
from drivers.button_logic import ButtonEventKind
from runtime.config import ConfigError, HubConfig, load_config
from runtime.earpiece_state import EarpieceChange, EarpieceState
from runtime.hub_parts import HubParts, StatusLight, build_parts
from runtime.logging_setup import apply_config_level
from runtime.sdnotify import SystemdNotifier

if TYPE_CHECKING:
    from drivers.earpiece import EarpieceButton

log = logging.getLogger(__name__)

REST_STATES = ("idle", "offline", "muted")  # the conversation is over in these
WAITING_LED = "SLOW_BLINK"  # drivers.gpio.LedPattern: no earpiece audio
START_ORDER = (PLAYBACK, SESSION, CONTROLLER, LISTENER, CAPTURE)
STOP_TIMEOUT_S = 1.5  # per actor; the usual stop is a few ms
# The Session's engine finishes dictation already spoken before it stops (transcribe
# mode): give it that long, so a stop never throws away what the user said.
SESSION_STOP_TIMEOUT_S = DRAIN_TIMEOUT_S + 2.0
PING_TIMEOUT_S = 2.0
TICK_S = 0.1


class HubStartError(RuntimeError):
    pass


@dataclass(slots=True)
class HubControl:
    """What signal handlers (or a test) flip to steer :meth:`Hub.run`."""

    stop: threading.Event = field(default_factory=threading.Event)
    reload: threading.Event = field(default_factory=threading.Event)
    until_idle: bool = False


class Hub:
    def __init__(
        self,
        config: HubConfig,
        parts: HubParts | None = None,
        *,
        notifier: SystemdNotifier | None = None,
        policy: SupervisionPolicy | None = None,
        config_path: Path | None = None,
    ) -> None:
        self.config = config
        self.parts = parts if parts is not None else build_parts(config)
        self.notifier = notifier if notifier is not None else SystemdNotifier()
        self.policy = policy or SupervisionPolicy()
        self.config_path = config_path
        self.ready = threading.Event()
        self.input_ended = threading.Event()
        self.fatal_reason: str | None = None
        self.state = "offline"
        self.state_cause = "starting"
        self.state_since = time.monotonic()
        self.turns: deque[dict[str, float]] = deque(maxlen=50)
        self.wiring: Wiring | None = None
        self.led: StatusLight | None = None
        self.earpiece_button: EarpieceButton | None = None
        self._opened: set[str] = set()
        self.earpiece = self._new_earpiece_state()
        self._led_pattern = "SLOW_PULSE"  # what the conversation state wants shown
        self._lock = threading.Lock()
        self._state_changed = threading.Condition(self._lock)

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start every actor; raises :class:`HubStartError` (all stopped) if one cannot."""
        apply_config_level(self.config.logging.level)  # at start and after every reload
        wiring = Wiring(hooks=HubHooks(
            device_opened=self._device_opened, state_changed=self._on_state,
            turn_timed=self._on_turn, fatal=self._on_fatal))
        self.wiring = wiring
        self.led = self.parts.led()
        def request_mute(muted: bool) -> None:
            # a spoken "mute" (a skill, in any mode) reaches the Controller's state machine
            wiring.peers.tell(CONTROLLER, MuteRequested(muted))

        self.parts.controls.request_mute = request_mute
        self.parts.audio_presence.listener = self._presence
        self.parts.controls.earpiece_status = self.earpiece_status
        factories = self._factories(wiring, self.config, self.parts)
        wiring.peers.set(SUPERVISOR, Supervisor.start(wiring, factories, self.policy))
        # Everyone else answers before Capture starts: the first audio has the Listener load
        # its number crunching (numpy, ~0.1 s), which READY need not wait for (the audio
        # waits in the mailbox meanwhile).
        *downstream, source = START_ORDER
        for role in downstream:
            wiring.peers.set(role, factories[role]())
        dead = [role for role in downstream if not self._answers(role, PING_TIMEOUT_S * 5)]
        if not dead:
            wiring.peers.set(source, factories[source]())
            dead = [] if self._answers(source, PING_TIMEOUT_S * 5) else [source]
        if dead:
            self.stop()
            raise HubStartError(f"could not start the {', '.join(dead)} actor(s); see the log")
        log.info("hub started (mode %s)", self.config.mode)
        self._open_earpiece_button(wiring)
        with self._lock:  # a device found missing before the Controller was in the table
            if self.earpiece.waiting:
                self._tell(CONTROLLER, AudioDevices(False, self.earpiece.text))
        # Ready once the actors run, audio or not: an earpiece that is off must not
        # keep the unit "activating" (systemd would time out and restart us forever).
        self.ready.set()
        self.notifier.ready(self._status_line())

    def _told_earpiece_state(self, ref: pykka.ActorRef[Any]) -> pykka.ActorRef[Any]:
        """A (re)started Controller starts believing the audio is there: say if it is not."""
        with self._lock:
            if self.earpiece.waiting:
                ref.tell(AudioDevices(False, self.earpiece.text))
        return ref

    def _open_earpiece_button(self, wiring: Wiring) -> None:
        """The earpiece's own button: its presses are the GPIO button's gestures."""
        def press(kind: str, at_ns: int) -> None:
            wiring.peers.tell(CONTROLLER, ButtonPressed(ButtonEventKind[kind], at_ns))

        try:
            self.earpiece_button = self.parts.earpiece(press)
        except Exception as exc:  # noqa: BLE001 - the hub runs on without it, says why
            log.error("the earpiece's button is not available: %s", exc)

    def _factories(self, wiring: Wiring, config: HubConfig,
                   parts: HubParts) -> dict[str, ActorFactory]:
        captured = AudioMailbox(max_chunks=100)  # ~2 s of 20 ms chunks
        to_session = AudioMailbox(max_chunks=500)
        led = self._show_led if self.led is not None else None
        return {
            PLAYBACK: lambda: PlaybackActor.start(
                wiring, parts.playback, parts.earcon, config.audio.playback.period_ms),
            SESSION: lambda: SessionActor.start(
                wiring, parts.engine, to_session, config.logging.conversation),
            CONTROLLER: lambda: self._told_earpiece_state(ControllerActor.start(
                wiring, parts.settings, button_factory=parts.button, set_led=led)),
            LISTENER: lambda: ListenerActor.start(
                wiring, captured, to_session, parts.segmenter, wake_factory=parts.wake,
                preroll_ms=config.conversation.preroll_ms),
            CAPTURE: lambda: CaptureActor.start(
                wiring, parts.capture, captured, on_end=self.input_ended.set),
        }

    def stop(self) -> None:
        """Stop the Supervisor, then the actors in reverse start order; idempotent."""
        wiring, self.wiring = self.wiring, None
        if wiring is None:
            return
        started = time.monotonic()
        for role in (SUPERVISOR, *reversed(START_ORDER)):
            ref = wiring.peers.get(role)
            wiring.peers.set(role, None)
            if ref is not None:
                _stop_actor(role, ref)
        if self.led is not None:
            self.led.close()
            self.led = None
        if self.earpiece_button is not None:
            self.earpiece_button.close()
            self.earpiece_button = None
        self.ready.clear()
        with self._lock:
            self._opened.clear()
            self.earpiece = self._new_earpiece_state()
        log.info("hub stopped in %.0f ms", (time.monotonic() - started) * 1000)

    def run(self, control: HubControl) -> int:
        """Start, serve until stopped (0), fatal (1) or, with until_idle, the input ran out."""
        from runtime.status_snapshot import serve_status

        self.start()
        status = serve_status(self)  # the owner-only socket `maigic status` reads
        watchdog_s = self.notifier.watchdog_interval_s()
        next_ping = time.monotonic()
        code = 0
        try:
            while not control.stop.wait(TICK_S):
                if self.fatal_reason is not None:
                    code = 1
                    break
                if control.reload.is_set():
                    control.reload.clear()
                    self.reload()
                if control.until_idle and self.input_ended.is_set() and self.idle_for(1.0):
                    log.info("input ended and the hub is idle: exiting")
                    break
                if watchdog_s is not None and time.monotonic() >= next_ping:
                    next_ping = time.monotonic() + watchdog_s
                    if self.ping_all():
                        self.notifier.watchdog()
                    else:
                        log.error("an actor did not answer the watchdog ping")
        finally:
            self.notifier.stopping()
            if status is not None:
                status.stop()
            self.stop()
        if self.fatal_reason is not None:
            log.critical("hub exiting: %s", self.fatal_reason)
            code = 1
        return code

    def reload(self) -> bool:
        """Re-read the config file; on any problem keep running on the current config."""
        if self.config_path is None:
            log.warning("reload requested, but the hub was not started from a config file")
            return False
        self.notifier.reloading()
        try:
            new = load_config(self.config_path).config
            parts = build_parts(new) if new != self.config else self.parts
        except (ConfigError, ValueError, OSError) as exc:
            log.error("config reload failed; still running on the previous config:\n%s", exc)
            self.notifier.status(f"config error, kept the running config: {exc}")
            self.notifier.ready()
            return False
        if new == self.config:
            log.info("config reloaded: no change")
            # replace a previous reload's "config error" status line: the file is fine now
            self.notifier.status(self._status_line())
            self.notifier.ready()
            return True
        old_config, old_parts = self.config, self.parts
        self.stop()
        self.config, self.parts = new, parts
        try:
            self.start()
        except HubStartError as exc:
            log.error("the new config did not start (%s); going back to the previous one", exc)
            self.config, self.parts = old_config, old_parts
            self.start()
            return False
        log.info("config reloaded from %s", self.config_path)
        return True

    # --- observation ----------------------------------------------------------------

    def ping_all(self, timeout: float = PING_TIMEOUT_S) -> bool:
        return all(self._answers(role, timeout) for role in (SUPERVISOR, *START_ORDER))

    def _answers(self, role: str, timeout: float) -> bool:
        wiring = self.wiring
        ref = wiring.peers.get(role) if wiring is not None else None
        if ref is None:
            return False
        try:
            return bool(ref.ask(Ping(), timeout=timeout))
        except (pykka.ActorDeadError, pykka.Timeout):
            return False

    def wait_for_state(self, state: str | tuple[str, ...], timeout: float) -> bool:
        """Block until the conversation is in ``state`` (or one of them; tests, --until-idle)."""
        wanted = (state,) if isinstance(state, str) else state
        deadline = time.monotonic() + timeout
        with self._state_changed:
            while self.state not in wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._state_changed.wait(left)
        return True

    def idle_for(self, seconds: float) -> bool:
        with self._lock:
            return self.state == "idle" and time.monotonic() - self.state_since >= seconds

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "state": self.state,
                "cause": self.state_cause,
                "mode": self.config.mode,
                "online": self.state != "offline",
                "devices": sorted(self._opened),
                "earpiece": self._earpiece_snapshot(),
                "last_turn": self.turns[-1] if self.turns else None,
                "turns": len(self.turns),
            }

    # --- hooks (called from actor threads) ------------------------------------------

    def _device_opened(self, role: str) -> None:
        self._presence(role, True, "open")

    def _presence(self, role: str, present: bool, reason: str) -> None:
        """A device came or went (from a driver or an actor): act once per change."""
        with self._lock:
            if present:
                self._opened.add(role)
            else:
                self._opened.discard(role)
            change = self.earpiece.update(role, present, reason)
            if change is not None:
                # told under the lock, so two quick changes reach the Controller in order
                self._tell(CONTROLLER, AudioDevices(change.connected, change.text))
        if change is not None:
            self._on_earpiece(change)

    def _on_earpiece(self, change: EarpieceChange) -> None:
        if change.connected:
            log.info("earpiece connected: capture and playback open")
            if change.was_waiting:
                self._tell(PLAYBACK, PlayEarcon("CONNECTED"))
        else:
            log.warning("%s", change.text)
        self.notifier.status(self._status_line())
        self._show_led(self._led_pattern)

    def _tell(self, role: str, message: object) -> None:
        wiring = self.wiring
        if wiring is not None:
            wiring.peers.tell(role, message)

    def _show_led(self, pattern: str) -> None:
        """The conversation's LED pattern, unless the earpiece is away (then slow blink)."""
        self._led_pattern = pattern
        led = self.led
        if led is None:
            return
        try:
            led.set(pattern if self.earpiece.connected or not self.earpiece.waiting
                    else WAITING_LED)
        except Exception as exc:  # noqa: BLE001 - a broken LED must not stop the hub
            log.warning("setting the LED failed: %s", exc)

    def _status_line(self) -> str:
        line = f"{self.state} ({self.state_cause})"
        return line if not self.earpiece.waiting else f"{self.earpiece.text}; {line}"

    def _new_earpiece_state(self) -> EarpieceState:
        return EarpieceState({CAPTURE: self.config.audio.capture.device,
                              PLAYBACK: self.config.audio.playback.device})

    def _on_state(self, state: str, cause: str) -> None:
        with self._state_changed:
            self.state, self.state_cause, self.state_since = state, cause, time.monotonic()
            self.parts.controls.muted = state == "muted"  # for the status skill
            self._state_changed.notify_all()
        self.notifier.status(self._status_line())
        button = self.earpiece_button
        if button is not None and state in REST_STATES:
            button.conversation_over()  # an HFP headset hears "+BVRA: 0"

    def _earpiece_snapshot(self) -> dict[str, Any]:
        """The device state plus what bluealsa says (battery, codec); caller holds the lock."""
        snapshot: dict[str, Any] = dict(self.earpiece.snapshot())
        button = self.earpiece_button
        info = button.info() if button is not None else None
        if info is not None:
            snapshot.update(hfp_link=info.connected, transport=info.transport,
                            battery_percent=info.battery_percent, codec=info.codec,
                            codec_rate=info.sample_rate, button=info.button)
        return snapshot

    def earpiece_status(self) -> tuple[bool | None, int | None]:
        """(connected, battery percent) for the status skill; None = not known."""
        with self._lock:
            snapshot = self._earpiece_snapshot()
        return snapshot["connected"], snapshot.get("battery_percent")

    def _on_turn(self, figures: dict[str, float]) -> None:
        with self._lock:
            self.turns.append(figures)

    def _on_fatal(self, reason: str) -> None:
        self.fatal_reason = reason


def _stop_actor(role: str, ref: pykka.ActorRef[Any]) -> None:
    timeout = SESSION_STOP_TIMEOUT_S if role == SESSION else STOP_TIMEOUT_S
    try:
        ref.stop(timeout=timeout)
    except pykka.ActorDeadError:
        pass
    except pykka.Timeout:
        log.error("the %s actor did not stop within %.1f s", role, timeout)
