"""The Supervisor: restarts dead actors with backoff, gives up when they keep dying."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pykka

from actors.messages import ActorFailed, ActorRestarted, Ping, RestartActor
from actors.timer import DeadlineTimer
from actors.wiring import CONTROLLER, Wiring
from drivers.backoff import Backoff

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0  # a restarted actor answers a ping once its setup is done
ActorFactory = Callable[[], "pykka.ActorRef[Any]"]


@dataclass(frozen=True, slots=True)
class SupervisionPolicy:
    max_failures: int = 5  # this many deaths ...
    window_s: float = 60.0  # ... within this window: the process exits non-zero
    initial_delay_s: float = 0.1
    max_delay_s: float = 5.0


@dataclass(frozen=True, slots=True)
class _Tick:
    token: int


class Supervisor(pykka.ThreadingActor):
    """Not a HubActor: nobody supervises the supervisor (if it dies, the hub's watchdog
    ping fails and systemd restarts the process)."""

    def __init__(
        self,
        wiring: Wiring,
        factories: Mapping[str, ActorFactory],
        policy: SupervisionPolicy = SupervisionPolicy(),
    ) -> None:
        super().__init__()
        self.wiring = wiring
        self.factories = dict(factories)
        self.policy = policy
        self.failures: deque[float] = deque()
        self.restarts: dict[str, int] = {}
        self._backoff: dict[str, Backoff] = {}
        self._due: dict[str, float] = {}
        self._gave_up = False
        self._timer: DeadlineTimer | None = None

    def on_start(self) -> None:
        self._timer = DeadlineTimer(lambda token: self.actor_ref.tell(_Tick(token)),
                                    name="supervisor-timer")

    def on_stop(self) -> None:
        if self._timer is not None:
            self._timer.close()

    def on_receive(self, message: Any) -> Any:
        match message:
            case Ping():
                return True
            case ActorFailed():
                self._on_failed(message)
            case _Tick() | RestartActor():
                self._restart_due(message.role if isinstance(message, RestartActor) else None)
            case _:
                raise TypeError(f"supervisor cannot handle {message!r}")
        return None

    def _on_failed(self, failure: ActorFailed) -> None:
        now = time.monotonic()
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.policy.window_s:
            self.failures.popleft()
        self.wiring.peers.set(failure.role, None)
        if len(self.failures) >= self.policy.max_failures:
            if not self._gave_up:
                self._gave_up = True
                reason = (f"{len(self.failures)} actor failures within "
                          f"{self.policy.window_s:.0f} s (last: {failure.role}: {failure.error})")
                log.critical("giving up: %s", reason)
                self.wiring.hooks.fatal(reason)
            return
        backoff = self._backoff.setdefault(
            failure.role, Backoff(self.policy.initial_delay_s, self.policy.max_delay_s))
        delay = backoff.next_delay()
        log.warning("%s actor died (%s); restarting in %.2f s", failure.role, failure.error, delay)
        self._due[failure.role] = now + delay
        self._arm()

    def _restart_due(self, role: str | None) -> None:
        now = time.monotonic()
        due = [r for r, t in self._due.items() if t <= now or r == role]
        for r in due:
            del self._due[r]
            if self._gave_up:
                continue
            try:
                ref = self.factories[r]()
                alive = bool(ref.ask(Ping(), timeout=START_TIMEOUT_S))
            except Exception as exc:  # noqa: BLE001 - a failed start counts as a failure
                self._on_failed(ActorFailed(r, f"restart failed: {exc!r}"))
                continue
            if not alive:
                self._on_failed(ActorFailed(r, "restart failed: the actor did not start"))
                continue
            self.wiring.peers.set(r, ref)
            self.restarts[r] = self.restarts.get(r, 0) + 1
            log.info("%s actor restarted (restart #%d)", r, self.restarts[r])
            self.wiring.peers.tell(CONTROLLER, ActorRestarted(r))
        self._arm()

    def _arm(self) -> None:
        if self._timer is None:
            return
        if self._due:
            self._timer.arm(max(0.0, min(self._due.values()) - time.monotonic()), 0)
        else:
            self._timer.disarm()
