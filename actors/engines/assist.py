"""Assist mode: the hub is a Wyoming satellite and Home Assistant's Assist pipeline answers.

The hub keeps its own triggers (wake word, button, always listening) and its own
VAD; a turn's audio streams to Home Assistant as it is spoken, the end of the turn
sends ``audio-stop``, and Home Assistant's transcript and spoken answer come back
as the usual provider-neutral events. Playback of the answer is reported to Home
Assistant (``played``) once it has had time to be heard, or at once on barge-in.
Home Assistant's timers ring here (``on_timer_finished``). While Home Assistant is
not connected (at start, or it drops: ``ConnectionLost``; a turn that starts while
it is away: a fatal ``ProviderError``, so that turn is answered at once) the
offline fallback answers locally until it connects again (``SessionReady``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from actors.engine import Emit
from drivers.wyoming.satellite import WyomingSatellite
from speech_api import AudioChunk
from speech_api.events import (
    AudioDelta,
    ConnectionLost,
    InputTranscript,
    ProviderError,
    RealtimeEvent,
    ResponseDone,
    ResponseStarted,
    SessionReady,
)

log = logging.getLogger(__name__)

NOT_CONNECTED = "Home Assistant has not connected yet"


class AssistEngine:
    """A :class:`actors.engine.ConversationEngine` backed by Home Assistant over Wyoming."""

    def __init__(self, make_satellite: Callable[[AssistEngine], WyomingSatellite], *,
                 on_timer_finished: Callable[[str | None], None] = lambda _name: None) -> None:
        self.satellite = make_satellite(self)
        self.on_timer_finished = on_timer_finished
        self._emit: Emit | None = None
        self._lock = threading.Lock()
        self._turn_open = False
        self._turns = 0
        self._response: str | None = None  # the answer being received
        self._answer = ""
        self._answer_ms = 0.0
        self._cancelled: set[str] = set()
        self._timer_names: dict[str, str | None] = {}
        self._played_timer: threading.Timer | None = None
        self._reported_absent = False  # "not connected" said once until HA connects

    # --- ConversationEngine ---------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self.satellite.start()
        if not self.satellite.is_connected:  # the fallback answers if HA does not come soon
            emit(ConnectionLost(reason=NOT_CONNECTED))

    def send_audio(self, chunk: AudioChunk) -> None:
        with self._lock:
            opening = not self._turn_open
            self._turn_open = True
            absent = opening and not self.satellite.is_connected and not self._reported_absent
            self._reported_absent = self._reported_absent or absent
        if absent:  # the fallback answers this turn locally, at once
            self._send(ProviderError(message=NOT_CONNECTED, code="not_connected", fatal=True))
        if opening:
            self.satellite.begin_turn()
        self.satellite.send_audio(chunk)

    def end_turn(self) -> None:
        with self._lock:
            was_open, self._turn_open = self._turn_open, False
            self._turns += 1
        if was_open:
            self.satellite.end_turn()

    def cancel_turn(self) -> None:
        self.end_turn()  # Home Assistant has no "forget": the stream simply ends

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        with self._lock:
            response = self._response  # kept: the rest of its audio is dropped as it comes
            cancel = cancel_response and response is not None and response not in self._cancelled
            if cancel and response is not None:
                self._cancelled.add(response)
            playing = cancel or self._played_timer is not None
        if cancel and response is not None:
            self._send(ResponseDone(response_id=response, status="cancelled",
                                    transcript=self._answer))
        if playing:  # received in full or not, the user stopped listening: HA may go on
            self._played_now()

    def tool_result(self, call_id: str, output: str) -> None:
        log.debug("assist mode has no tools; result for %s ignored", call_id)

    def close(self) -> None:
        self._cancel_played_timer()
        self.satellite.close()

    # --- SatelliteListener (the satellite's loop thread) -----------------------------

    def connected(self) -> None:
        log.info("Home Assistant connected: turns go to its Assist pipeline")
        with self._lock:
            self._reported_absent = False
        self._send(SessionReady())

    def disconnected(self, reason: str) -> None:
        with self._lock:
            self._response = None
            self._turn_open = False
            self._reported_absent = True  # the fallback knows: the link dropped
        self._send(ConnectionLost(reason=reason))

    def transcript(self, text: str) -> None:
        with self._lock:
            item = f"assist-in-{self._turns}"
        self._send(InputTranscript(item_id=item, text=text.strip(), is_final=True))

    def answer_text(self, text: str) -> None:
        with self._lock:
            self._answer = text.strip()

    def answer_audio(self, chunk: AudioChunk) -> None:
        with self._lock:
            response = self._response
            starting = response is None
            if response is None:
                response = self._response = f"assist-{self._turns}"
                self._answer_ms = 0.0
            if response in self._cancelled:
                return
            self._answer_ms += chunk.duration_ms or 0.0
        if starting:
            self._send(ResponseStarted(response_id=response))
        self._send(AudioDelta(response_id=response, item_id=f"{response}-audio",
                              content_index=0, pcm=chunk.to_pcm().data,
                              sample_rate=chunk.sample_rate))

    def answer_end(self) -> None:
        with self._lock:
            response, self._response = self._response, None
            played_in_s = self._answer_ms / 1000.0
            answer = self._answer
        if response is None or response in self._cancelled:
            return  # no audio, or cancelled (already reported)
        self._send(ResponseDone(response_id=response, transcript=answer))
        # Home Assistant waits for "played" before its next step; the answer plays in real time
        self._cancel_played_timer()
        timer = threading.Timer(played_in_s, self._played_now)
        timer.daemon = True
        timer.name = "assist-played"
        self._played_timer = timer
        timer.start()

    def failed(self, message: str, code: str | None) -> None:
        log.warning("Home Assistant's pipeline failed: %s (%s)", message, code)
        with self._lock:
            response, self._response = self._response, None
            failed = response or f"assist-{self._turns}-failed"
        self._send(ProviderError(message=message, code=code, fatal=False))
        self._send(ResponseDone(response_id=failed, status="failed"))

    def timer(self, kind: str, timer_id: str, name: str | None, seconds: int | None) -> None:
        log.info("Home Assistant timer %s %s (%s, %s s)", timer_id, kind, name, seconds)
        if kind == "started":
            self._timer_names[timer_id] = name
        elif kind == "finished":
            self.on_timer_finished(self._timer_names.pop(timer_id, None))
        else:
            self._timer_names.pop(timer_id, None)

    def paused(self) -> None:
        log.info("Home Assistant paused the satellite (muted there)")
        self.cancel_turn()

    # --- helpers --------------------------------------------------------------------

    def _played_now(self) -> None:
        self._cancel_played_timer()
        self.satellite.played()

    def _cancel_played_timer(self) -> None:
        timer, self._played_timer = self._played_timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()

    def _send(self, event: RealtimeEvent) -> None:
        assert self._emit is not None, "start() first"
        self._emit(event)
