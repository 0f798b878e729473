"""The OpenAI Realtime session the hub's actors drive: blocking and thread-safe.

Talks the GA protocol over websocket-client only; importing this module never
imports the ``openai`` package. A reader thread turns server frames into
``speech_api.events`` in a bounded queue (old audio dropped first, control
events never). A dropped link yields :class:`ConnectionLost`, then the session
reconnects with jittered exponential backoff, replays its settings and yields
``SessionReady(reconnected=True)``; the backoff starts small again only once a
reconnected session is ready (a server that accepts and then drops is not
hammered). With ``max_reconnect_attempts=0`` a drop ends the session instead
(the hub's link state machine decides when to open the next one). Fatal errors
(bad key, no quota) are not retried: they yield ``ProviderError(fatal=True)`` and
end the session.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from drivers.backoff import Backoff
from drivers.openai import realtime_wire as wire
from drivers.openai.audio_pump import AudioPump
from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import PROVIDER
from drivers.openai.event_queue import EventQueue
from drivers.openai.pcm24k import Pcm24kConverter
from drivers.openai.realtime_link import LinkLostError, RealtimeLink
from speech_api.audio import AudioChunk
from speech_api.errors import APIError
from speech_api.events import (
    ConnectionLost,
    ProviderError,
    RealtimeEvent,
    RealtimeSessionConfig,
    SessionReady,
)
from speech_api.realtime import AsyncRealtimeSession, RealtimeSpeechSession

log = logging.getLogger(__name__)

DEFAULT_REALTIME_MODEL = "gpt-realtime"
DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-transcribe"
JOIN_GRACE_S = 2.0  # beyond connect_timeout_s: the reader may be mid-handshake at close()
CONTROL_DRAIN_S = 1.0  # a control frame waits this long for the audio queued before it


class OpenAIRealtimeSession(RealtimeSpeechSession):
    """One Realtime conversation (``settings.kind == "realtime"``) or transcription session.

    Call :meth:`connect` (the client's ``open_*`` methods do), then
    :meth:`initialize_session`, then send audio and read :meth:`next_event`.
    """

    def __init__(
        self,
        config: OpenAIConfig,
        settings: wire.SessionSettings,
        *,
        model: str | None = None,
        max_queued_audio: int = 500,
    ) -> None:
        self._config = config
        self._settings = settings
        if settings.kind == "transcription":
            self._url = config.realtime_url(intent="transcription")
        else:
            self._url = config.realtime_url(model=model or DEFAULT_REALTIME_MODEL)
        self._queue = EventQueue(max_queued_audio)
        self._mapper = wire.ServerEventMapper()
        self._converter = Pcm24kConverter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._link: RealtimeLink | None = None
        self._reader: threading.Thread | None = None
        self._backoff = Backoff(config.reconnect_initial_s, config.reconnect_max_s)
        self._initialized = False
        self.audio_dropped_while_down = 0
        self.reconnects = 0
        # ~5 s of 20 ms frames may wait for a slow link; older audio is dropped first
        self._pump = AudioPump(self._send_audio_now, max_frames=250)

    # --- lifecycle ----------------------------------------------------------------

    def connect(self) -> None:
        """Open the first connection; raises :class:`APIError` if that fails."""
        if self._reader is not None:
            raise RuntimeError("this realtime session is already connected")
        self._link = RealtimeLink.open(self._url, self._config)
        self._reader = threading.Thread(
            target=self._read_loop, name=f"openai-realtime-{self._settings.kind}", daemon=True
        )
        self._reader.start()
        self._pump.start()

    def close(self) -> None:
        self._stop.set()
        self._pump.stop()
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()  # also wakes a pump stuck writing to a stalled socket
        if not self._pump.join(JOIN_GRACE_S):
            log.error("realtime audio pump did not stop within %.0f s", JOIN_GRACE_S)
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            limit = self._config.connect_timeout_s + JOIN_GRACE_S
            reader.join(limit)
            if reader.is_alive():
                log.error("realtime reader thread did not stop within %.0f s", limit)

    @property
    def closed(self) -> bool:
        """True once the session ended and every event it produced has been read."""
        return self._stop.is_set() and len(self._queue) == 0

    @property
    def dropped_audio_events(self) -> int:
        """Audio deltas dropped because the consumer fell behind."""
        return self._queue.dropped_audio

    @property
    def dropped_frames(self) -> int:
        """Malformed or unknown server frames that were logged and ignored."""
        return self._mapper.dropped_frames

    # --- client events ------------------------------------------------------------

    def initialize_session(self) -> None:
        self._initialized = True
        self._mapper.expect_ready(reconnected=False)
        self._send_control(wire.session_update(self._settings))

    def send_audio(self, chunk: AudioChunk) -> None:
        """Append audio (resampled to 24 kHz mono PCM16); never blocks on the network.

        The frame is written by the audio pump's thread; it is dropped while the link
        is down, and the oldest frames go first when the link falls behind.
        """
        with self._lock:
            pcm = self._converter.convert(chunk)
        if pcm:
            self._pump.put(pcm)

    @property
    def audio_dropped_behind(self) -> int:
        """Audio frames dropped because the link could not keep up."""
        return self._pump.dropped

    def wait_for_send_room(self, max_queued: int = 25, timeout: float = 10.0) -> bool:
        """Block while more than ``max_queued`` audio frames wait to be written.

        A live microphone never waits here; a caller with the audio already in hand
        (an unpaced file) does, so the pump never falls behind and drops it.
        """
        return self._pump.wait_below(max_queued + 1, timeout)

    def _send_audio_now(self, pcm: bytes) -> None:
        """The pump's write of one frame."""
        with self._lock:
            link = self._link
        if link is None:
            self.audio_dropped_while_down += 1
            return
        try:
            link.send(wire.append_audio(pcm))
        except LinkLostError:
            self.audio_dropped_while_down += 1  # the reader notices and reconnects

    def send_pcm24k(self, pcm: bytes) -> None:
        """Append audio that already is 24 kHz mono PCM16."""
        self.send_audio(AudioChunk.pcm(pcm, wire.REALTIME_RATE))

    def commit(self) -> None:
        self._send_control({"type": "input_audio_buffer.commit"})

    def clear_input(self) -> None:
        self._send_control({"type": "input_audio_buffer.clear"})

    def create_response(self) -> None:
        self._require_conversation("create_response")
        self._send_control({"type": "response.create"})

    def cancel_response(self) -> None:
        self._require_conversation("cancel_response")
        self._queue.clear_audio()
        self._send_control({"type": "response.cancel"})

    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        self._require_conversation("truncate")
        if not item_id or content_index < 0 or audio_end_ms < 0:
            raise ValueError(
                "truncate needs an item_id, content_index >= 0 and audio_end_ms >= 0, got "
                f"{item_id!r}, {content_index}, {audio_end_ms}"
            )
        self._send_control(wire.truncate(item_id, content_index, audio_end_ms))

    def send_tool_result(self, call_id: str, output: str) -> None:
        """Give the model a function call's result and ask it to go on answering."""
        self._require_conversation("send_tool_result")
        self._send_control(wire.tool_result(call_id, output))
        self._send_control({"type": "response.create"})  # the only one: callers add none

    def next_event(self, timeout: float) -> RealtimeEvent | None:
        return self._queue.get(timeout)

    def _require_conversation(self, what: str) -> None:
        if self._settings.kind != "realtime":
            raise APIError(
                f"{what} is only possible in a speech-to-speech session, not a transcription one",
                provider=PROVIDER,
                code="not_supported",
            )

    def _send_control(self, event: dict[str, object]) -> None:
        # the audio sent before this (e.g. the end of the turn before a commit) goes first
        self._pump.drain(CONTROL_DRAIN_S)
        with self._lock:
            link = self._link
        if link is None:
            code = "session_closed" if self._stop.is_set() else "not_connected"
            raise APIError(
                f"cannot send {event['type']}: the realtime link is down",
                provider=PROVIDER,
                code=code,
                retryable=not self._stop.is_set(),
            )
        try:
            link.send(event)
        except LinkLostError as exc:
            raise APIError(
                f"cannot send {event['type']}: {exc}",
                provider=PROVIDER,
                code="not_connected",
                retryable=True,
            ) from None

    # --- reader thread ------------------------------------------------------------

    def _read_loop(self) -> None:
        link = self._link
        while not self._stop.is_set():
            if link is None:
                link = self._reconnect()
                if link is None:
                    break
            try:
                raw = link.receive()
            except LinkLostError as exc:
                if self._stop.is_set():
                    break
                # an owner that reconnects itself (the hub's link) logs the state change
                owned = self._config.max_reconnect_attempts == 0
                log.log(logging.DEBUG if owned else logging.WARNING, "realtime link lost: %s",
                        exc)
                with self._lock:
                    self._link = None
                link.close()
                link = None
                self._queue.put(ConnectionLost(reason=str(exc)))
                if self._config.max_reconnect_attempts == 0:
                    self._end()  # the owner reconnects (a new session) when it sees fit
                    return
                continue
            for event in self._mapper.map(raw):
                self._queue.put(event)
                if isinstance(event, SessionReady):
                    self._backoff.reset()  # count the session, not the TCP connect
                if isinstance(event, ProviderError) and event.fatal:
                    log.error("fatal realtime error (%s): ending the session", event.code)
                    self._end()
                    return

    def _reconnect(self) -> RealtimeLink | None:
        attempts = 0
        while not self._stop.wait(self._backoff.next_delay()):
            attempts += 1
            try:
                link = RealtimeLink.open(self._url, self._config)
            except APIError as exc:
                limit = self._config.max_reconnect_attempts
                if not exc.retryable or (limit is not None and attempts >= limit):
                    self._fail(exc)
                    return None
                log.info("realtime reconnect attempt %d failed: %s", attempts, exc)
                continue
            if self._initialized:
                self._mapper.expect_ready(reconnected=True)
                try:
                    link.send(wire.session_update(self._settings))
                except LinkLostError:
                    link.close()
                    continue
            with self._lock:
                if self._stop.is_set():
                    link.close()
                    return None
                self._link = link
            self.reconnects += 1
            log.info("realtime link re-established after %d attempt(s)", attempts)
            return link
        return None

    def _fail(self, exc: APIError) -> None:
        self._queue.put(ProviderError(message=str(exc), code=exc.code, fatal=True))
        self._end()

    def _end(self) -> None:
        self._stop.set()
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()


class OpenAIAsyncRealtimeSession(AsyncRealtimeSession):
    """The seed's async face; ``send_audio`` also takes bare 24 kHz PCM16 bytes."""

    def __init__(self, session: OpenAIRealtimeSession) -> None:
        super().__init__(session)
        self.session = session

    async def send_audio(self, chunk: AudioChunk | bytes) -> None:
        if isinstance(chunk, bytes):
            chunk = AudioChunk.pcm(chunk, wire.REALTIME_RATE)
        await super().send_audio(chunk)


class OpenAIRealtimeTranscriptionSession(OpenAIAsyncRealtimeSession):
    """The seed's transcription-only session (``?intent=transcription``), async face.

    ``receive_events()`` yields :class:`InputTranscript` (partial and final) and
    :class:`SpeechStarted` / :class:`SpeechStopped`; no answers are generated.
    """


class OpenAIRealtimeClient:
    """Opens Realtime sessions: blocking ``open_*`` for the hub, async ``connect_*`` (seed)."""

    def __init__(self, config: OpenAIConfig | None = None) -> None:
        self.config = config or OpenAIConfig()

    def open_speech_to_speech(
        self,
        model: str = DEFAULT_REALTIME_MODEL,
        voice: str = "marin",
        system_prompt: str | None = None,
        *,
        session_config: RealtimeSessionConfig | None = None,
        input_transcription_model: str | None = "gpt-4o-mini-transcribe",
    ) -> OpenAIRealtimeSession:
        _require_names(model=model, voice=voice)
        settings = wire.SessionSettings(
            kind="realtime",
            config=session_config or RealtimeSessionConfig(),
            voice=voice,
            instructions=system_prompt,
            input_transcription_model=input_transcription_model,
        )
        session = OpenAIRealtimeSession(self.config, settings, model=model)
        session.connect()
        return session

    def open_transcription(
        self,
        model: str = DEFAULT_TRANSCRIPTION_MODEL,
        *,
        session_config: RealtimeSessionConfig | None = None,
    ) -> OpenAIRealtimeSession:
        _require_names(model=model)
        config = replace(session_config or RealtimeSessionConfig(), model=model)
        settings = wire.SessionSettings(kind="transcription", config=config)
        session = OpenAIRealtimeSession(self.config, settings)
        session.connect()
        return session

    async def connect_speech_to_speech(
        self,
        model: str = DEFAULT_REALTIME_MODEL,
        voice: str = "marin",
        system_prompt: str | None = None,
    ) -> OpenAIAsyncRealtimeSession:
        from speech_api.bridge import run_blocking

        session = await run_blocking(
            lambda: self.open_speech_to_speech(model, voice, system_prompt)
        )
        return OpenAIAsyncRealtimeSession(session)

    async def connect_transcription(
        self, model: str = DEFAULT_TRANSCRIPTION_MODEL
    ) -> OpenAIRealtimeTranscriptionSession:
        from speech_api.bridge import run_blocking

        session = await run_blocking(lambda: self.open_transcription(model))
        return OpenAIRealtimeTranscriptionSession(session)


def _require_names(**names: str) -> None:
    """Refuse an empty model or voice before connecting (the server's answer is obscure)."""
    for what, value in names.items():
        if not isinstance(value, str) or not value.strip():
            raise APIError(f"{what} must be a non-empty string, got {value!r}",
                           provider="openai", code="invalid_request")
