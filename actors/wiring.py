"""How actors find each other: by role, through a table the Supervisor rewires.

Actors never keep another actor's ref; they ``tell`` a role. When the Supervisor
restarts an actor it swaps the ref here, so the graph heals without anyone
holding a dead ref. A message to a role that is down is dropped and logged: the
restart resynchronises state (the Controller goes back to IDLE).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pykka

log = logging.getLogger(__name__)

CAPTURE, LISTENER, SESSION, PLAYBACK, CONTROLLER, SUPERVISOR = (
    "capture", "listener", "session", "playback", "controller", "supervisor",
)


class Peers:
    """Thread-safe role -> ActorRef table."""

    def __init__(self) -> None:
        self._refs: dict[str, pykka.ActorRef[Any]] = {}
        self._lock = threading.Lock()

    def set(self, role: str, ref: pykka.ActorRef[Any] | None) -> None:
        with self._lock:
            if ref is None:
                self._refs.pop(role, None)
            else:
                self._refs[role] = ref

    def get(self, role: str) -> pykka.ActorRef[Any] | None:
        with self._lock:
            return self._refs.get(role)

    def roles(self) -> list[str]:
        with self._lock:
            return list(self._refs)

    def tell(self, role: str, message: object) -> bool:
        """Deliver ``message`` to ``role``; False (logged) when that actor is down."""
        ref = self.get(role)
        if ref is None:
            log.debug("no %s actor for %s", role, type(message).__name__)
            return False
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            log.debug("%s actor is dead; dropped %s", role, type(message).__name__)
            return False
        return True


def _ignore(*_args: object) -> None:
    return None


@dataclass(frozen=True, slots=True)
class HubHooks:
    """Callbacks from the actors to the process around them (sd_notify, exit, status)."""

    device_opened: Callable[[str], None] = _ignore  # role whose audio device opened
    state_changed: Callable[[str, str], None] = _ignore  # (state name, cause)
    turn_timed: Callable[[dict[str, float]], None] = _ignore  # per-turn hop timings, ms
    fatal: Callable[[str], None] = _ignore  # too many failures: the process must exit


@dataclass(slots=True)
class Wiring:
    """What every actor of one hub shares."""

    peers: Peers = field(default_factory=Peers)
    hooks: HubHooks = field(default_factory=HubHooks)


def tell_quietly(ref: pykka.ActorRef[Any], message: object) -> None:
    """``ref.tell`` from a driver thread, where the actor may already have stopped."""
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        log.debug("actor gone; late %s dropped", type(message).__name__)
