"""The provider link: one state machine for every online mode.

Realtime, chained and transcribe all ask the same questions of their provider:
may I try now, did it work, how long until the next try, and what does the owner
see in ``maigic status``. :class:`ProviderLink` answers them in one place:

- ``CONNECTING``: nothing known yet; the first attempt runs at once.
- ``ONLINE``: a session is ready (realtime, transcribe) or the last request
  succeeded (chained).
- ``RETRYING``: the last attempt failed, or the session ended; the next attempt is
  due after a jittered exponential backoff with a cap. The backoff counts the
  *session*, not the TCP connect: it starts small again only after a session
  stayed up for ``stable_s`` (or a request succeeded), so a server that accepts
  and then drops at once is retried ever more slowly, never in a storm.
- ``REJECTED``: a fatal answer (bad key, model not found, no quota): retried only
  every ``rejected_retry_s`` (a reload with a fixed config starts afresh).
- ``CLOSED``: the engine was closed.

Every state change is logged once (one line); repeated failures in the same
state are logged at DEBUG. Whether the offline fallback answers meanwhile is known
here too, so the status tells the owner who answers.

:class:`StandingLink` keeps one session open through these states on its own
thread (one handler per state); the realtime and transcribe engines use it. The
chained engine, which connects per request, reports each request's outcome.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.backoff import Backoff
from speech_api import SpeechAPIError
from speech_api.errors import APIError
from speech_api.events import ConnectionLost, ProviderError, RealtimeEvent, SessionReady
from speech_api.realtime import RealtimeSpeechSession

log = logging.getLogger(__name__)


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    ONLINE = "online"
    RETRYING = "retrying"
    REJECTED = "rejected"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """How the link retries (fixed in production; tests read the schedule it gives)."""

    initial_s: float = 1.0  # first retry after a failure
    max_s: float = 15.0  # the backoff's cap
    factor: float = 2.0
    jitter: float = 0.2  # +-20 % so many hubs do not retry in lock-step
    stable_s: float = 10.0  # a session that lasted this long resets the backoff
    rejected_retry_s: float = 300.0  # a fatal rejection is tried again this rarely
    ready_timeout_s: float = 10.0  # a session not ready by then counts as failed


OnState = Callable[[LinkState, str | None], None]


def is_fatal(exc: Exception) -> bool:
    """Bad key, model not found, no quota: retrying at once cannot help."""
    return isinstance(exc, APIError) and not exc.retryable


class ProviderLink:
    """Thread-safe link state, backoff schedule and status record.

    Times for the status are wall-clock (``wall``); the schedule uses ``clock``.
    """

    def __init__(self, policy: LinkPolicy | None = None, *, fallback: str | None = None,
                 name: str = "provider", clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.policy = policy or LinkPolicy()
        self.fallback = fallback  # who answers while not ONLINE (None: nobody)
        self.name = name
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._backoff = Backoff(self.policy.initial_s, self.policy.max_s, self.policy.factor,
                                self.policy.jitter, rng=rng)
        self._state = LinkState.CONNECTING
        self._since = wall()
        self._retry_at = clock()
        self._up_at: float | None = None
        self._last_error: str | None = None
        self._errors = 0
        self._attempts = 0
        self._offline_turns = 0
        self._closed_from = LinkState.CONNECTING
        self.changes: deque[LinkState] = deque([LinkState.CONNECTING], maxlen=100)

    # --- what the engines and the status read -------------------------------------

    @property
    def state(self) -> LinkState:
        with self._lock:
            return self._state

    @property
    def online(self) -> bool:
        return self.state is LinkState.ONLINE

    def wait_for(self, state: LinkState, timeout: float) -> bool:
        """Block until the link is in ``state`` (at most ``timeout`` seconds)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._state is state, timeout)

    def retry_in(self) -> float:
        """Seconds until the next attempt is due (0: now)."""
        with self._lock:
            return max(0.0, self._retry_at - self._clock())

    def may_try(self) -> bool:
        """Whether a per-request engine should try the provider for this turn."""
        with self._lock:
            if self._state in (LinkState.CONNECTING, LinkState.ONLINE):
                return True
            return self._state is not LinkState.CLOSED and self._clock() >= self._retry_at

    # --- what happens to the link --------------------------------------------------

    def attempt(self) -> None:
        """An attempt starts (a connect, or a per-turn request while not online)."""
        with self._lock:
            self._attempts += 1
            attempts, state = self._attempts, self._state
        log.debug("%s link: attempt %d (%s)", self.name, attempts, state.value)

    def ready(self, *, proven: bool = False) -> bool:
        """A session is ready, or a request succeeded (``proven``: resets the backoff
        at once, as an answer is proof of health); True when the state changed."""
        with self._lock:
            self._up_at = self._clock()
            if proven:
                self._backoff.reset()
            return self._change(LinkState.ONLINE, None)

    def failed(self, error: str, *, fatal: bool = False) -> bool:
        """An attempt failed or a session ended; True when the state changed."""
        with self._lock:
            now = self._clock()
            if self._up_at is not None and now - self._up_at >= self.policy.stable_s:
                self._backoff.reset()  # that session was healthy: start small again
            self._up_at = None
            self._last_error = error
            self._errors += 1
            if fatal:
                delay, state = self.policy.rejected_retry_s, LinkState.REJECTED
            else:
                delay, state = self._backoff.next_delay(), LinkState.RETRYING
            self._retry_at = now + delay
            changed = self._change(state, error)
            if not changed:
                log.debug("%s link: attempt failed (%s); next in %.1f s", self.name, error,
                          delay)
            return changed

    def error(self, message: str) -> None:
        """A failure that does not change the state (the session carries on)."""
        with self._lock:
            self._last_error = message
            self._errors += 1

    def offline_turn(self) -> None:
        with self._lock:
            self._offline_turns += 1

    def close(self) -> None:
        with self._lock:
            if self._state is not LinkState.CLOSED:
                self._closed_from = self._state
                self._state = LinkState.CLOSED
                self.changes.append(LinkState.CLOSED)

    def reopen(self) -> None:
        """A new engine takes the link over (a restarted Session): a rejection or a
        backoff in progress keeps its schedule, anything else connects afresh."""
        with self._lock:
            if self._state is not LinkState.CLOSED:
                return
            keep = self._closed_from in (LinkState.RETRYING, LinkState.REJECTED)
            self._state = self._closed_from if keep else LinkState.CONNECTING
            self.changes.append(self._state)

    def _change(self, state: LinkState, error: str | None) -> bool:
        """Called with the lock held: record and log one state change."""
        old = self._state
        if old is state or old is LinkState.CLOSED:
            return False
        self._state = state
        self._since = self._wall()
        self.changes.append(state)
        self._changed.notify_all()
        meanwhile = f"meanwhile: {self.fallback}" if self.fallback else \
            "nothing answers meanwhile"
        delay = max(0.0, self._retry_at - self._clock())
        if state is LinkState.ONLINE:
            log.info("%s link: online%s", self.name,
                     " again" if old is not LinkState.CONNECTING else "")
        elif state is LinkState.RETRYING:
            log.warning("%s link: %s (%s); retrying in %.1f s, backing off up to %.0f s; %s",
                        self.name, "lost" if old is LinkState.ONLINE else "unavailable",
                        error, delay, self.policy.max_s, meanwhile)
        elif state is LinkState.REJECTED:
            log.error("%s link: rejected (%s); not retrying for %.0f min (fix the key or "
                      "model and reload); %s", self.name, error,
                      self.policy.rejected_retry_s / 60, meanwhile)
        return True

    # --- status --------------------------------------------------------------------

    def answers(self) -> str:
        """Who answers the user now, in words for ``maigic status``."""
        state = self.state
        if state is LinkState.ONLINE:
            return "online"
        if self.fallback:
            return self.fallback
        if state is LinkState.CONNECTING:
            return "nobody yet (connecting)"
        if state is LinkState.REJECTED:
            return "nobody (the provider rejected the hub)"
        return "nobody (provider unreachable, retrying)"

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "online": self._state is LinkState.ONLINE,
                "state": self._state.value,
                "since": self._since,
                "last_error": self._last_error,
                "errors": self._errors,
                "attempts": self._attempts,
                "offline_turns": self._offline_turns,
                "retry_in_s": round(max(0.0, self._retry_at - self._clock()), 1)
                if self._state in (LinkState.RETRYING, LinkState.REJECTED) else None,
            }


SessionOpener = Callable[[], RealtimeSpeechSession]
POLL_S = 0.2
JOIN_TIMEOUT_S = 3.0  # a connect in progress ends by itself (daemon thread, stop is set)


class StandingLink:
    """Keeps one provider session open through the link's states, on its own thread.

    ``open_session`` connects and returns a session (then initialised here);
    ``on_event`` gets every session event except the link's own (ready, lost,
    fatal error), which move the state instead; ``on_state`` hears each state change.
    The session never reconnects by itself: a drop ends it and the link decides
    when to open the next one.
    """

    def __init__(self, link: ProviderLink, open_session: SessionOpener,
                 on_event: Callable[[RealtimeEvent], None], on_state: OnState,
                 *, name: str = "provider-link") -> None:
        self.link = link
        self._open = open_session
        self._on_event = on_event
        self._on_state = on_state
        self._name = name
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._session: RealtimeSpeechSession | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[LinkState, Callable[[], None]] = {
            LinkState.CONNECTING: self._on_connecting,
            LinkState.ONLINE: self._on_online,
            LinkState.RETRYING: self._on_retrying,
            LinkState.REJECTED: self._on_rejected,
        }

    @property
    def session(self) -> RealtimeSpeechSession | None:
        """The ready session, or None while the link is not online."""
        with self._lock:
            return self._session if self.link.online else None

    def start(self) -> None:
        self.link.reopen()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.link.close()
        with self._lock:
            session = self._session
        if session is not None:
            session.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("%s thread did not stop within %.0f s", self._name, JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while not self._stop.is_set():
            handler = self._handlers.get(self.link.state)
            if handler is None:  # CLOSED
                return
            handler()

    # --- one handler per state ------------------------------------------------------

    def _on_connecting(self) -> None:
        self._attempt()

    def _on_retrying(self) -> None:
        if not self._stop.wait(self.link.retry_in()):
            self._attempt()

    def _on_rejected(self) -> None:
        self._on_retrying()  # the same, on the slow schedule the link computed

    def _on_online(self) -> None:
        with self._lock:
            session = self._session
        if session is None:  # cannot happen: ONLINE is only entered with a session
            self._failed("no session", fatal=False)
            return
        self._serve(session, until_ready=False)

    # --- the work ---------------------------------------------------------------------

    def _attempt(self) -> None:
        self.link.attempt()
        try:
            session = self._open()
        except SpeechAPIError as exc:  # the handshake's answer: a bad key is fatal
            self._failed(str(exc), fatal=is_fatal(exc))
            return
        except OSError as exc:  # a socket error the driver did not wrap
            self._failed(f"{type(exc).__name__}: {exc}", fatal=False)
            return
        try:
            session.initialize_session()
        except (SpeechAPIError, OSError) as exc:
            # connected, then dropped before the setup went out: a lost connection, never
            # a rejection (a refused key or model comes as an error event, served below);
            # the session's threads end with it
            session.close()
            self._failed(f"the connection dropped during the setup: {exc}", fatal=False)
            return
        with self._lock:
            self._session = session
        if self._stop.is_set():
            self._end(session)
            return
        self._serve(session, until_ready=True)

    def _serve(self, session: RealtimeSpeechSession, *, until_ready: bool) -> None:
        """Pass the session's events on until it ends (or, ``until_ready``, is ready)."""
        deadline = time.monotonic() + self.link.policy.ready_timeout_s
        while not self._stop.is_set():
            if session.closed:
                self._ended(session, "the provider session ended", fatal=False)
                return
            if until_ready and time.monotonic() > deadline:
                self._ended(session, "the session was not ready within "
                            f"{self.link.policy.ready_timeout_s:.0f} s", fatal=False)
                return
            event = session.next_event(POLL_S)
            match event:
                case None:
                    continue
                case SessionReady():
                    if self.link.ready():
                        self._on_state(LinkState.ONLINE, None)
                    if until_ready:
                        return
                case ConnectionLost(reason=reason):
                    self._ended(session, reason or "connection lost", fatal=False)
                    return
                case ProviderError(fatal=True, message=message, code=code):
                    self._ended(session, f"{code}: {message}" if code else message, fatal=True)
                    return
                case _:
                    self._on_event(event)
        self._end(session)

    def _ended(self, session: RealtimeSpeechSession, reason: str, *, fatal: bool) -> None:
        self._end(session)
        if not self._stop.is_set():
            self._failed(reason, fatal=fatal)

    def _end(self, session: RealtimeSpeechSession) -> None:
        with self._lock:
            if self._session is session:
                self._session = None
        session.close()

    def _failed(self, reason: str, *, fatal: bool) -> None:
        if self.link.failed(reason, fatal=fatal):
            self._on_state(self.link.state, reason)
