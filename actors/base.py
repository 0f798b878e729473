"""The base of every hub actor: supervised, pingable, releases its resources once."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, NoReturn

import pykka

from actors.messages import ActorFailed, Ping
from actors.wiring import SUPERVISOR, Wiring

log = logging.getLogger(__name__)


class HubActor(pykka.ThreadingActor):
    """Subclasses implement :meth:`receive` (and :meth:`release` for what they own).

    pykka calls ``on_failure`` (not ``on_stop``) when a told message raises; both
    paths release the actor's drivers and threads, and a failure is reported to
    the Supervisor, which starts a replacement.
    """

    role = "actor"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__()
        self.wiring = wiring
        self._released = False

    def on_start(self) -> None:
        # Register before anything else, so replies to what setup() sends find us.
        self.wiring.peers.set(self.role, self.actor_ref)
        self.setup()

    def setup(self) -> None:
        """Open drivers and start threads (runs in the actor's thread)."""

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Ping):
            return True
        return self.receive(message)

    def receive(self, message: object) -> object:
        raise NotImplementedError

    def unexpected(self, message: object) -> NoReturn:
        raise TypeError(f"{self.role} actor cannot handle {type(message).__name__}: {message!r}")

    def tell(self, role: str, message: object) -> None:
        self.wiring.peers.tell(role, message)

    def release(self) -> None:
        """Close drivers and join threads; called once, from on_stop or on_failure."""

    def _release_once(self) -> None:
        if not self._released:
            self._released = True
            try:
                self.release()
            except Exception:
                log.exception("%s: releasing resources failed", self.role)

    def on_stop(self) -> None:
        self._release_once()

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        log.error("%s actor failed: %r", self.role, exception_value,
                  exc_info=(exception_type, exception_value, traceback)
                  if exception_type and exception_value else None)
        self._release_once()
        self.wiring.peers.tell(SUPERVISOR, ActorFailed(self.role, repr(exception_value)))
