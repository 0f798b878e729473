"""The Controller actor: runs the conversation state machine, the button and the LED.

Messages from the Listener, Session, Playback, the button and the deadline timer
go through :class:`Conversation`; the effects it returns are carried out here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import pykka

from actors import messages as m
from actors.base import HubActor
from actors.conversation import (
    Arm,
    Conversation,
    ConversationSettings,
    Disarm,
    Effect,
    Send,
    State,
    Transition,
)
from actors.timer import DeadlineTimer
from actors.wiring import CONTROLLER, LISTENER, SESSION, Wiring, tell_quietly
from drivers.button_logic import ButtonEventKind

log = logging.getLogger(__name__)

LED_FOR_STATE = {  # drivers.gpio.LedPattern names
    State.IDLE: "SLOW_PULSE",  # alive
    State.LISTENING: "ON",  # the microphone is open
    State.THINKING: "BREATHE",
    State.SPEAKING: "BREATHE",
    State.MUTED: "OFF",
    State.OFFLINE: "FAST_BLINK",
}

# Waiting for a trigger: nothing to interrupt, so the Listener may batch its audio.
IDLE_STATES = (State.IDLE, State.OFFLINE, State.MUTED)

ButtonCallback = Callable[[str, int], None]  # (ButtonEventKind name, at_ns)


class Closeable(Protocol):
    def close(self) -> None: ...


ButtonFactory = Callable[[ButtonCallback], Closeable]
LedSetter = Callable[[str], None]  # LedPattern name


class ControllerActor(HubActor):
    role = CONTROLLER

    def __init__(
        self,
        wiring: Wiring,
        settings: ConversationSettings,
        *,
        button_factory: ButtonFactory | None = None,
        set_led: LedSetter | None = None,
    ) -> None:
        super().__init__(wiring)
        self.conversation = Conversation(settings)
        self.button_factory = button_factory
        self.set_led = set_led
        self.button: Closeable | None = None
        self.timer: DeadlineTimer | None = None

    @property
    def state(self) -> State:
        return self.conversation.state

    def setup(self) -> None:
        ref: pykka.ActorRef[Any] = self.actor_ref
        self.timer = DeadlineTimer(lambda token: tell_quietly(ref, m.Deadline(token)),
                                   name="controller-deadline")
        if self.button_factory is not None:
            try:
                self.button = self.button_factory(
                    lambda kind, at_ns: tell_quietly(ref, _button_message(kind, at_ns)))
            except Exception as exc:  # noqa: BLE001 - run on without a button, say why
                log.error("the button is not available: %s", exc)
        self._apply(self.conversation.start())
        self._show(self.conversation.state, "starting")
        self.tell(SESSION, m.StatusRequest())

    def release(self) -> None:
        if self.button is not None:
            self.button.close()
        if self.timer is not None:
            self.timer.close()

    def receive(self, message: object) -> object:
        if not isinstance(message, _HANDLED):
            self.unexpected(message)
        self._apply(self.conversation.handle(message))
        if isinstance(message, m.ActorStarted) and message.role == LISTENER:
            self.tell(LISTENER, m.HubIdle(self.state in IDLE_STATES))  # a new Listener
        return None

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            match effect:
                case Send(role=role, message=message):
                    self.tell(role, message)
                case Arm(seconds=seconds, token=token):
                    if self.timer is not None:
                        self.timer.arm(seconds, token)
                case Disarm():
                    if self.timer is not None:
                        self.timer.disarm()
                case Transition(new=new, cause=cause):
                    self._show(new, cause)

    def _show(self, state: State, cause: str) -> None:
        self.wiring.hooks.state_changed(state.value, cause)
        self.tell(LISTENER, m.HubIdle(state in IDLE_STATES))
        if self.set_led is not None:
            try:
                self.set_led(LED_FOR_STATE[state])
            except Exception as exc:  # noqa: BLE001 - a broken LED must not stop the hub
                log.warning("setting the LED failed: %s", exc)


def _button_message(kind: str, at_ns: int) -> m.ButtonPressed:
    return m.ButtonPressed(ButtonEventKind[kind], at_ns)


_HANDLED = (
    m.ButtonPressed, m.MuteRequested, m.Deadline, m.SpeechStarted, m.SpeechStopped,
    m.WakeDetected, m.ProviderOnline, m.ProviderOffline,
    m.ReplyAudioStarted, m.ReplyFinished, m.ReplyPlayed, m.ActorRestarted, m.ActorStarted,
    m.AudioDevices, m.SpeechMeasured,
)
