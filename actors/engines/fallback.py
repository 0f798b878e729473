"""Automatic offline fallback: an online engine with the local engine behind it.

While the provider answers, turns go online. The hub switches to the local
engine for the next turns when the provider is unreachable or rejects the key:

- a connection drop (``ConnectionLost``) is passed on at once (the conversation
  shows OFFLINE, as without a fallback); if the link has not come back within
  ``offline_after_s``, local mode starts and the conversation is ready again;
- a fatal ``ProviderError`` (bad key, no quota), or an engine that connects per
  turn (chained) failing a turn, switches to local mode at once; a turn that was
  waiting for the provider's answer is answered locally from a copy of its audio.

When the provider's VAD ended the turns (always listening with server turn
detection), local mode finds them itself: ``turn_detector`` segments the audio
and the provider's ``SpeechStarted`` / ``SpeechStopped`` are emitted for it.

The first offline answer starts with the notice ("I'm offline, ..."), once per
outage. Going back: an engine with a standing connection (realtime) keeps
reconnecting by itself and its ``SessionReady`` ends local mode; a per-turn
engine (chained) is tried again with a real turn every ``retry_online_s`` (if
that try fails, the same turn is answered locally). The state is kept in the
:class:`ProviderLink` for ``maigic status``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from actors.engine import ConversationEngine, Emit
from actors.engines.link import ProviderLink
from actors.engines.local import LocalEngine
from actors.timer import DeadlineTimer
from drivers.local.segmenter import SpeechEnd, SpeechStart, VadEvent
from speech_api import AudioChunk
from speech_api.events import (
    ConnectionLost,
    ProviderError,
    RealtimeEvent,
    ResponseDone,
    ResponseStarted,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
)

log = logging.getLogger(__name__)

OFFLINE_NOTICE = "I'm offline, I can still tell the time and set timers."
OFFLINE_AFTER_S = 3.0  # a dropped link that is back within this is not an outage
PREROLL_MS = 300  # audio kept from before a detected turn's speech start


class TurnDetector(Protocol):
    def feed(self, chunk: AudioChunk) -> list[VadEvent]: ...


class FallbackEngine:
    def __init__(
        self,
        online: ConversationEngine,
        local: LocalEngine,
        link: ProviderLink,
        *,
        retry_online_s: float,
        probe_per_turn: bool,
        offline_after_s: float = OFFLINE_AFTER_S,
        turn_detector: Callable[[], TurnDetector] | None = None,
        notice: str = OFFLINE_NOTICE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.online = online
        self.local = local
        self.link = link
        self.retry_online_s = retry_online_s
        self.probe_per_turn = probe_per_turn
        self.offline_after_s = offline_after_s
        self.make_detector = turn_detector
        self._detector: TurnDetector | None = None
        self.notice = notice
        self._clock = clock
        self._lock = threading.Lock()
        self._emit: Emit | None = None
        self._timer: DeadlineTimer | None = None
        self._outage = 0  # numbers the drops, so a stale timer is ignored
        self.local_mode = False  # turns go to the local engine
        self._notice_due = True
        self._turn_online = False  # audio of the current turn goes to the online engine
        self._pending: tuple[AudioChunk, ...] | None = None  # online turn not yet answered
        self._in_flight: str | None = None  # online response being received
        self._abandoned = False  # late events of a failed online turn are dropped
        self._last_try = clock()

    # --- ConversationEngine ---------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self._timer = DeadlineTimer(self._outage_confirmed, name="fallback-timer")
        self.local.start(self._from_local)
        self.online.start(self._from_online)

    def send_audio(self, chunk: AudioChunk) -> None:
        self.local.send_audio(chunk)  # a copy: answered locally if the provider fails
        with self._lock:
            if not self._turn_online and self._use_online():
                self._turn_online = True
            online = self._turn_online
        if online:
            self.online.send_audio(chunk)
        elif self.local_mode and self.make_detector is not None:
            self._detect_turn(chunk)

    def _detect_turn(self, chunk: AudioChunk) -> None:
        """Local mode standing in for the provider's VAD (server turn detection)."""
        if self._detector is None:
            assert self.make_detector is not None
            self._detector = self.make_detector()
        for event in self._detector.feed(chunk):
            if isinstance(event, SpeechStart):
                self.local.turn.keep_last(PREROLL_MS)
                self._forward(SpeechStarted())
            elif isinstance(event, SpeechEnd):
                self._forward(SpeechStopped())
                self.end_turn()

    def end_turn(self) -> None:
        chunks = self.local.turn.take()
        with self._lock:
            online = self._turn_online or self._use_online()
            self._turn_online = False
            if online:
                self._pending, self._abandoned = chunks, False
                self._last_try = self._clock()
        if online:
            self.online.end_turn()
        else:
            self._answer_locally(chunks)

    def cancel_turn(self) -> None:
        with self._lock:
            self._turn_online = False
        self.local.cancel_turn()
        self.online.cancel_turn()

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        self.local.interrupt(cancel_response, heard)
        with self._lock:
            self._pending = None
        self.online.interrupt(cancel_response, [h for h in heard if not h[0].startswith("local")])

    def tool_result(self, call_id: str, output: str) -> None:
        self.online.tool_result(call_id, output)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.close()
        self.online.close()
        self.local.close()

    # --- routing --------------------------------------------------------------------

    def _use_online(self) -> bool:
        """Called with the lock held."""
        if not self.local_mode:
            return True
        return self.probe_per_turn and self._clock() - self._last_try >= self.retry_online_s

    def _answer_locally(self, chunks: Sequence[AudioChunk]) -> None:
        with self._lock:
            preface = self.notice if self._notice_due and self.link.online is False else ""
            if preface:
                self._notice_due = False
        self.link.offline_turn()
        self.local.answer_audio(chunks, preface)

    # --- events ---------------------------------------------------------------------

    def _from_local(self, event: RealtimeEvent) -> None:
        if not isinstance(event, SessionReady):  # ready is decided here
            self._forward(event)

    def _from_online(self, event: RealtimeEvent) -> None:
        match event:
            case SessionReady():
                self._back_online(event)
            case ConnectionLost(reason=reason):
                self._link_dropped(event, reason or "connection lost")
            case ProviderError(fatal=True, message=message):
                self._go_local(message)
            case ProviderError(message=message) if self.probe_per_turn and self._has_pending():
                self._go_local(message)  # a per-turn request failed: answer it locally
            case ResponseStarted(response_id=rid):
                with self._lock:
                    drop = self._abandoned
                    if not drop:
                        self._pending, self._in_flight = None, rid
                if not drop:
                    self._answered()
                    self._forward(event)
            case ResponseDone(response_id=rid):
                with self._lock:
                    drop = self._abandoned and rid != self._in_flight
                    if rid == self._in_flight:
                        self._in_flight = None
                if not drop:
                    self._forward(event)
            case _:
                with self._lock:
                    drop = self._abandoned
                if not drop:
                    self._forward(event)

    def _has_pending(self) -> bool:
        with self._lock:
            return self._pending is not None

    def _back_online(self, event: SessionReady) -> None:
        with self._lock:
            self._abandoned = False  # a new session: nothing late can come
            self._outage += 1  # cancels a pending outage timer
            was_local, self.local_mode = self.local_mode, False
            self._detector = None
            if self.link.set_online(True):
                self._notice_due = True  # the next outage is announced again
        if was_local:
            log.info("provider back: turns go online again")
        self._forward(event)

    def _answered(self) -> None:
        """A per-turn engine answered: the outage (if any) is over."""
        with self._lock:
            was_local, self.local_mode = self.local_mode, False
            if self.link.set_online(True):
                self._notice_due = True
        if was_local:
            log.info("provider answered again: turns go online")

    def _link_dropped(self, event: ConnectionLost, reason: str) -> None:
        self.local.prepare()  # the offline recogniser may be needed in a few seconds
        with self._lock:
            if self.local_mode:
                self.link.error(reason)
                return  # already answering offline; the reconnects go on quietly
            self.link.set_online(False, error=reason)
            self._outage += 1
            token = self._outage
            self._pending = self._in_flight = None  # the Session forgets the answer too
        self._forward(event)
        if self._timer is not None:
            self._timer.arm(self.offline_after_s, token)

    def _outage_confirmed(self, token: int) -> None:
        with self._lock:
            if token != self._outage or self.local_mode:
                return
        self._go_local("the provider did not come back")

    def _go_local(self, reason: str) -> None:
        self.local.prepare()
        with self._lock:
            was_local, self.local_mode = self.local_mode, True
            self.link.set_online(False, error=reason)
            pending, self._pending = self._pending, None
            in_flight, self._in_flight = self._in_flight, None
            self._abandoned = self._abandoned or pending is not None or in_flight is not None
            self._last_try = self._clock()
            self._turn_online = False
        if not was_local:
            log.warning("provider unavailable (%s): answering offline", reason)
            self._forward(SessionReady())  # the local engine is ready for the next turn
        if in_flight is not None:
            self._forward(ResponseDone(response_id=in_flight, status="failed"))
        if pending is not None:
            self._answer_locally(pending)

    def _forward(self, event: RealtimeEvent) -> None:
        assert self._emit is not None
        self._emit(event)
