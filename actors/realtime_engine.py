"""Realtime mode: one OpenAI Realtime speech-to-speech session as a ConversationEngine.

The session is kept open by a :class:`StandingLink` (connect, backoff, health, all
in the :class:`ProviderLink` state machine). This engine turns the link's state
changes into the conversation's events: ``SessionReady`` when it comes online,
``ConnectionLost`` when it stops being online (once, not per retry), and a fatal
``ProviderError`` when the provider rejects the hub.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from actors.engine import Emit
from actors.engines.link import LinkState, ProviderLink, SessionOpener, StandingLink
from speech_api import AudioChunk
from speech_api.errors import SpeechAPIError
from speech_api.events import ConnectionLost, ProviderError, RealtimeEvent, SessionReady
from speech_api.realtime import RealtimeSpeechSession

log = logging.getLogger(__name__)


class RealtimeEngine:
    def __init__(self, open_session: SessionOpener, link: ProviderLink | None = None) -> None:
        self.link = link or ProviderLink(name="realtime")
        self._runner = StandingLink(self.link, open_session, self._on_event, self._on_state,
                                    name="realtime-link")
        self._emit: Emit | None = None
        self._was_online = False
        self._lock = threading.Lock()

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self._runner.start()

    def _on_event(self, event: RealtimeEvent) -> None:
        assert self._emit is not None
        self._emit(event)

    def _on_state(self, state: LinkState, reason: str | None) -> None:
        assert self._emit is not None
        with self._lock:
            reconnected, self._was_online = self._was_online, \
                self._was_online or state is LinkState.ONLINE
        if state is LinkState.ONLINE:
            self._emit(SessionReady(reconnected=reconnected))
        elif state is LinkState.REJECTED:
            self._emit(ProviderError(message=reason or "rejected", fatal=True))
        else:
            self._emit(ConnectionLost(reason=reason or "connection lost"))

    def _call(self, what: str, action: Callable[[RealtimeSpeechSession], None]) -> None:
        session = self._runner.session
        if session is None:
            log.debug("realtime session not connected; %s dropped", what)
            return
        try:
            action(session)
        except SpeechAPIError as exc:
            log.warning("realtime session: %s failed: %s", what, exc)

    def send_audio(self, chunk: AudioChunk) -> None:
        self._call("audio", lambda s: s.send_audio(chunk))

    def end_turn(self) -> None:
        def commit_and_respond(s: RealtimeSpeechSession) -> None:
            s.commit()
            s.create_response()

        self._call("commit", commit_and_respond)

    def cancel_turn(self) -> None:
        self._call("clear input", lambda s: s.clear_input())

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        def stop_answer(s: RealtimeSpeechSession) -> None:
            if cancel_response:
                s.cancel_response()
            for item_id, ms in heard:
                s.truncate(item_id, 0, ms)

        self._call("interrupt", stop_answer)

    def tool_result(self, call_id: str, output: str) -> None:
        # send_tool_result asks for the model's next response itself: one response.create
        self._call("tool result", lambda s: s.send_tool_result(call_id, output))

    def close(self) -> None:
        self._runner.close()
