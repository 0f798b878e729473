"""Realtime mode: one OpenAI Realtime speech-to-speech session as a ConversationEngine."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from actors.engine import Emit
from drivers.backoff import Backoff
from speech_api import AudioChunk
from speech_api.errors import SpeechAPIError
from speech_api.events import ConnectionLost, ProviderError
from speech_api.realtime import RealtimeSpeechSession

log = logging.getLogger(__name__)

SessionOpener = Callable[[], RealtimeSpeechSession]
POLL_S = 0.2
JOIN_TIMEOUT_S = 3.0


class RealtimeEngine:
    """Opens the session on its own thread (retrying with backoff), then pumps its events.

    ``open_session`` connects and returns the session (e.g. a bound
    ``OpenAIRealtimeClient.open_speech_to_speech``); the session itself reconnects
    after a drop and replays its settings, this class only retries the first
    connection and a session that ended for good.
    """

    def __init__(self, open_session: SessionOpener, backoff: Backoff | None = None) -> None:
        self._open = open_session
        self._backoff = backoff or Backoff(0.5, 30.0)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._session: RealtimeSpeechSession | None = None
        self._thread: threading.Thread | None = None

    def start(self, emit: Emit) -> None:
        self._thread = threading.Thread(target=self._run, args=(emit,), name="realtime-engine",
                                        daemon=True)
        self._thread.start()

    def _run(self, emit: Emit) -> None:
        while not self._stop.is_set():
            session = self._connect(emit)
            if session is None:
                continue
            with self._lock:
                self._session = session
            try:
                while not self._stop.is_set() and not session.closed:
                    event = session.next_event(POLL_S)
                    if event is not None:
                        emit(event)
            finally:
                with self._lock:
                    self._session = None
                session.close()
            if not self._stop.is_set():
                emit(ConnectionLost(reason="the provider session ended"))
                self._stop.wait(self._backoff.next_delay())

    def _connect(self, emit: Emit) -> RealtimeSpeechSession | None:
        try:
            session = self._open()
            session.initialize_session()
        except Exception as exc:  # noqa: BLE001 - any failure to connect is retried
            delay = self._backoff.next_delay()
            log.warning("realtime session: connecting failed (%s); retrying in %.1f s", exc, delay)
            emit(ProviderError(message=f"connecting failed: {exc}", fatal=False))
            emit(ConnectionLost(reason=str(exc)))
            self._stop.wait(delay)
            return None
        self._backoff.reset()
        if self._stop.is_set():
            session.close()
            return None
        return session

    def _call(self, what: str, action: Callable[[RealtimeSpeechSession], None]) -> None:
        with self._lock:
            session = self._session
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
        def answer(s: RealtimeSpeechSession) -> None:
            s.send_tool_result(call_id, output)
            s.create_response()

        self._call("tool result", answer)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            session = self._session
        if session is not None:
            session.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("realtime engine thread did not stop within %.0f s", JOIN_TIMEOUT_S)
