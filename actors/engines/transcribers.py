"""Speech-to-text for one user turn, as the chained mode needs it.

- :class:`ClipTranscriber`: the turn's audio as one clip to any
  ``BlockingSpeechToTextClient`` (OpenAI batch or streaming, or local pocketsphinx);
  with ``stream`` the growing text is reported as partials.
- :class:`LiveTranscriber`: a Realtime transcription session that hears the turn
  while it is spoken (the seed's "hybrid" pattern); the end of the turn commits
  and the final transcript arrives moments later. The provider link state machine
  keeps the session open.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from actors.engines.link import LinkState, OnState, ProviderLink, StandingLink
from speech_api import AudioChunk, BlockingSpeechToTextClient, TranscriptionError, join_chunks
from speech_api.events import ConnectionLost, InputTranscript, ProviderError, RealtimeEvent
from speech_api.realtime import RealtimeSpeechSession

log = logging.getLogger(__name__)

OnPartial = Callable[[str], None]
FINAL_WAIT_S = 10.0


class TurnTranscriber(Protocol):
    def feed(self, chunk: AudioChunk) -> None:
        """Audio of the turn as it is spoken (from the Session actor: must not block)."""

    def transcribe(self, chunks: Sequence[AudioChunk], on_partial: OnPartial) -> str:
        """The turn's final transcript (blocking; raises ``SpeechAPIError``)."""

    def reset(self) -> None:
        """Forget the turn in progress."""

    def close(self) -> None: ...


class ClipTranscriber:
    def __init__(self, client: BlockingSpeechToTextClient, *, language: str | None = None,
                 stream: bool = False) -> None:
        self.client = client
        self.language = language
        self.stream = stream

    def feed(self, chunk: AudioChunk) -> None:
        return None  # the clip is sent whole at the end of the turn

    def transcribe(self, chunks: Sequence[AudioChunk], on_partial: OnPartial) -> str:
        if not chunks:
            return ""
        audio = join_chunks(chunks)
        if not self.stream:
            return self.client.transcribe_blocking(audio, self.language).strip()
        text = ""
        for text in self.client.transcribe_stream_blocking(audio, self.language):
            on_partial(text)
        return text.strip()

    def reset(self) -> None:
        return None

    def close(self) -> None:
        return None


class LiveTranscriber:
    """A Realtime transcription session kept open by a :class:`StandingLink`.

    The session opens on first use (or :meth:`start`) and the link reconnects it
    with backoff; a turn whose start was not streamed (the session was not ready
    yet) is sent whole when it ends. While the link is not online,
    :meth:`transcribe` fails at once (the caller falls back or says so).
    """

    def __init__(self, open_session: Callable[[], RealtimeSpeechSession],
                 link: ProviderLink | None = None, final_wait_s: float = FINAL_WAIT_S,
                 on_state: OnState | None = None) -> None:
        self.link = link or ProviderLink(name="transcription")
        self.final_wait_s = final_wait_s
        self._on_state_extra = on_state
        self._events: queue.Queue[RealtimeEvent] = queue.Queue()
        self._runner = StandingLink(self.link, open_session, self._events.put,
                                    self._on_state, name="transcription-link")
        self._lock = threading.Lock()
        self._started = False
        self._streamed: bool | None = None  # this turn's audio went out as it was spoken

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._runner.start()

    def _on_state(self, state: LinkState, reason: str | None) -> None:
        if state is not LinkState.ONLINE:  # ends a wait for a final that cannot come
            self._events.put(ConnectionLost(reason=reason or "connection lost"))
        if self._on_state_extra is not None:
            self._on_state_extra(state, reason)

    def feed(self, chunk: AudioChunk) -> None:
        self.start()
        session = self._runner.session
        with self._lock:
            if self._streamed is None:
                self._streamed = session is not None
            streamed = self._streamed
        if streamed and session is not None:
            session.send_audio(chunk)

    def transcribe(self, chunks: Sequence[AudioChunk], on_partial: OnPartial) -> str:
        self.start()
        _drain(self._events)  # late events of an earlier turn
        self.commit(chunks)
        return self.final(on_partial)

    def commit(self, chunks: Sequence[AudioChunk]) -> None:
        """End the turn now (its audio, if the session missed its start, then a commit);
        its final arrives later, in commit order, through :meth:`final`."""
        with self._lock:
            streamed, self._streamed = self._streamed, None
        session = self._runner.session
        if session is None:
            error = self.link.snapshot()["last_error"]
            raise TranscriptionError(f"the transcription link is {self.link.state.value}"
                                     + (f" ({error})" if error else ""))
        if not streamed:  # the session was not ready when the turn began: send it now
            session.clear_input()
            for chunk in chunks:
                session.send_audio(chunk)
        session.commit()

    def final(self, on_partial: OnPartial) -> str:
        """The next committed turn's final transcript (blocking)."""
        return self._final(on_partial)

    def _final(self, on_partial: OnPartial) -> str:
        deadline = time.monotonic() + self.final_wait_s
        text = ""
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            match event:
                case InputTranscript(is_final=True, text=final):
                    return final.strip()
                case InputTranscript(text=delta):
                    text += delta
                    on_partial(text)
                case ProviderError(message=message, code=code, fatal=fatal):
                    raise TranscriptionError(f"realtime transcription failed: {message}"
                                             + (f" ({code})" if code else "")
                                             + (" [fatal]" if fatal else ""))
                case ConnectionLost(reason=reason):
                    raise TranscriptionError(f"realtime transcription lost its link: {reason}")
        raise TranscriptionError(f"no final transcript within {self.final_wait_s:.0f} s")

    def reset(self) -> None:
        with self._lock:
            self._streamed = None
        session = self._runner.session
        if session is not None:
            session.clear_input()

    def close(self) -> None:
        self._runner.close()


def _drain(events: queue.Queue[RealtimeEvent]) -> None:
    while True:
        try:
            events.get_nowait()
        except queue.Empty:
            return
