"""Automatic offline fallback: an online engine with the local engine behind it.

Which engine answers a turn is the :class:`ProviderLink`'s call, decided when the
turn starts: the online engine while the link is ONLINE (or, for an engine that
connects per request, whenever the link says a try is due), else the local
engine. The user is never deaf:

- from the first failed attempt the conversation is ready (the local engine
  answers), without waiting for the provider;
- a link lost while a question waits for its answer (a "cut-off question") gets
  that question answered locally from this engine's copy of the turn's audio, and
  so does a per-request turn the provider failed.

When the provider's VAD ends the turns online (always listening with server turn
detection), local mode finds them itself: ``turn_detector`` segments the audio and
``SpeechStarted`` / ``SpeechStopped`` are emitted for it. The first offline answer
of each outage starts with the notice ("I'm offline, ...").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from actors.engine import ConversationEngine, Emit
from actors.engines.in_flight import ResponsesInFlight, online_items
from actors.engines.link import ProviderLink
from actors.engines.local import LocalEngine
from actors.engines.worker import TurnAudio
from drivers.local import segmenter
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
PREROLL_MS = 300  # audio kept from before a detected turn's speech start


class TurnDetector(Protocol):
    def feed(self, chunk: AudioChunk) -> list[segmenter.VadEvent]: ...


class FallbackEngine:
    def __init__(
        self,
        online: ConversationEngine,
        local: LocalEngine,
        link: ProviderLink,
        *,
        per_request: bool,
        turn_detector: Callable[[], TurnDetector] | None = None,
        notice: str = OFFLINE_NOTICE,
    ) -> None:
        self.online = online
        self.local = local
        self.link = link
        self.per_request = per_request
        self.make_detector = turn_detector
        self.notice = notice
        self.turn = TurnAudio()  # a copy of the turn: answered locally if the provider fails
        self._lock = threading.Lock()
        self._online_responses = ResponsesInFlight()
        self._emit: Emit | None = None
        self._detector: TurnDetector | None = None
        # the state kept here: where the current turn goes, the online turn still waiting
        # for its answer, the online answer being received, the notice
        self._route_online: bool | None = None
        self._pending: tuple[AudioChunk, ...] | None = None
        self._in_flight: str | None = None
        self._notice_due = True
        self._ready_sent = False
        # the last committed turn and where it went, until the user goes on or a new one
        self._committed: tuple[AudioChunk, ...] = ()
        self._committed_online = False

    # --- ConversationEngine ---------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self.local.start(self._from_local)
        self.online.start(self._from_online)

    def send_audio(self, chunk: AudioChunk) -> None:
        self.turn.add(chunk)
        with self._lock:
            # the conversation ends turns: decided per turn; the provider's VAD ends them
            # (no end_turn comes while online): decided per chunk
            if self._route_online is None or self.make_detector is not None:
                self._route_online = self._link_usable()
            online = self._route_online
        if online:
            self.online.send_audio(chunk)
        elif self.make_detector is not None:
            self._detect_turn(chunk)

    def end_turn(self) -> None:
        self._end_turn(screened=False)

    def end_turn_screened(self) -> None:
        """A turn that came without a trigger: offline, the local engine answers it only if
        it is a request; online, the provider's engine decides (as it does unwrapped)."""
        self._end_turn(screened=True)

    def resume_turn(self) -> bool:
        """The user went on speaking after the commit: this engine's copy of the turn goes
        back in front of what follows (the next commit is heard whole, wherever it is
        answered) and the engine that had the turn drops its answer."""
        with self._lock:
            committed, self._committed = self._committed, ()
            went_online, self._committed_online = self._committed_online, False
            self._pending = None
        self.turn.put_back(committed)
        if went_online:
            resume = getattr(self.online, "resume_turn", None)
            return bool(resume()) if callable(resume) else False
        return self.local.resume_turn()

    def _end_turn(self, *, screened: bool) -> None:
        chunks = self.turn.take()
        with self._lock:
            route, self._route_online = self._route_online, None
            online = (route if route is not None else self._link_usable()) and \
                (self.per_request or self.link.online)
            if online:
                self._pending = chunks
            self._committed, self._committed_online = chunks, online
        screen = getattr(self.online, "end_turn_screened", None)
        if online and screened and callable(screen):
            screen()
        elif online:
            self.online.end_turn()
        else:
            self._answer_locally(chunks, turn=True, screened=screened)

    def cancel_turn(self) -> None:
        with self._lock:
            self._route_online = None
        self.turn.clear()
        self.online.cancel_turn()

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        self.local.interrupt(cancel_response, heard)
        with self._lock:
            self._pending = None
        if self.link.online:  # a ring spoken by the local engine is no online response
            self.online.interrupt(cancel_response and self._online_responses.any,
                                  online_items(heard))

    def tool_result(self, call_id: str, output: str) -> None:
        self.online.tool_result(call_id, output)

    def close(self) -> None:
        self.online.close()
        self.local.close()

    # --- routing --------------------------------------------------------------------

    def _link_usable(self) -> bool:
        return self.link.may_try() if self.per_request else self.link.online

    def _detect_turn(self, chunk: AudioChunk) -> None:
        """Local turns standing in for the provider's VAD (server turn detection)."""
        if self._detector is None:
            assert self.make_detector is not None
            self._detector = self.make_detector()
        for event in self._detector.feed(chunk):
            if isinstance(event, segmenter.SpeechStarted):
                self.turn.keep_last(PREROLL_MS)
                self._forward(SpeechStarted())
            elif isinstance(event, segmenter.SpeechStopped):
                self._forward(SpeechStopped())
                self.end_turn()

    def _answer_locally(self, chunks: Sequence[AudioChunk], *, turn: bool = False,
                        screened: bool = False) -> None:
        with self._lock:
            preface = self.notice if self._notice_due and not self.link.online else ""
            if preface:
                self._notice_due = False
        self.link.offline_turn()
        self.local.answer_audio(chunks, preface, turn=turn, screened=screened)

    # --- events ---------------------------------------------------------------------

    def _from_local(self, event: RealtimeEvent) -> None:
        if not isinstance(event, SessionReady):  # ready is decided here
            self._forward(event)

    def _from_online(self, event: RealtimeEvent) -> None:
        self._online_responses.see(event)
        match event:
            case SessionReady():
                with self._lock:
                    self._notice_due, self._ready_sent, self._detector = True, True, None
                self._forward(event)
            case ConnectionLost(reason=reason):
                self._provider_failed(reason or "connection lost")
            case ProviderError(fatal=True, message=message):
                self._provider_failed(message)
            case ProviderError(message=message) if self.per_request and self._has_pending():
                self._provider_failed(message)  # a per-request turn failed: answer it here
            case SpeechStarted():  # the provider's VAD: the turn's copy starts here
                self.turn.keep_last(PREROLL_MS)
                self._forward(event)
            case SpeechStopped():  # ... and the provider commits it itself
                with self._lock:
                    self._pending = self.turn.take()
                self._forward(event)
            case ResponseStarted(response_id=rid):
                with self._lock:
                    self._pending, self._in_flight = None, rid
                self._forward(event)
            case ResponseDone(response_id=rid):
                with self._lock:
                    mine = rid == self._in_flight or self._pending is not None
                    if rid == self._in_flight:
                        self._in_flight = None
                    self._pending = None
                if mine:  # else: the end of a failed turn already answered locally
                    self._forward(event)
            case _:
                self._forward(event)

    def _has_pending(self) -> bool:
        with self._lock:
            return self._pending is not None

    def _provider_failed(self, reason: str) -> None:
        """The link stopped being online (the link logged it): carry on locally."""
        self.local.prepare()  # the offline recogniser may be needed in a moment
        with self._lock:
            pending, self._pending = self._pending, None
            in_flight, self._in_flight = self._in_flight, None
            announce = not self._ready_sent
            self._ready_sent = True
        log.debug("answering locally: %s", reason)
        if announce:
            self._forward(SessionReady())  # the local engine answers from the first failure
        if in_flight is not None:
            self._forward(ResponseDone(response_id=in_flight, status="failed"))
        if pending is not None:
            self._answer_locally(pending)

    def _forward(self, event: RealtimeEvent) -> None:
        assert self._emit is not None
        self._emit(event)
