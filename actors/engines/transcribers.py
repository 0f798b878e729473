"""Speech-to-text for one user turn, as the chained mode needs it.

- :class:`ClipTranscriber`: the turn's audio as one clip to any
  ``BlockingSpeechToTextClient`` (OpenAI batch or streaming, or local pocketsphinx);
  with ``stream`` the growing text is reported as partials.
- :class:`LiveTranscriber`: a Realtime transcription session that hears the turn
  while it is spoken (the seed's "hybrid" pattern); the end of the turn commits
  and the final transcript arrives moments later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from speech_api import AudioChunk, BlockingSpeechToTextClient, TranscriptionError, join_chunks
from speech_api.events import ConnectionLost, InputTranscript, ProviderError
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
    """One Realtime transcription session, opened on first use and kept across turns."""

    def __init__(self, open_session: Callable[[], RealtimeSpeechSession],
                 final_wait_s: float = FINAL_WAIT_S) -> None:
        self._open = open_session
        self.final_wait_s = final_wait_s
        self._session: RealtimeSpeechSession | None = None
        self._lock = threading.Lock()
        self._sent = 0

    def connect(self) -> None:
        """Open the session now (blocking; call from a worker thread)."""
        with self._lock:
            if self._session is not None and not self._session.closed:
                return
        session = self._open()
        session.initialize_session()
        with self._lock:
            old, self._session = self._session, session
        if old is not None:
            old.close()

    def feed(self, chunk: AudioChunk) -> None:
        with self._lock:
            session = self._session
            if session is not None:
                self._sent += 1
        if session is not None:
            session.send_audio(chunk)

    def transcribe(self, chunks: Sequence[AudioChunk], on_partial: OnPartial) -> str:
        self.connect()
        with self._lock:
            session, sent, self._sent = self._session, self._sent, 0
        assert session is not None
        if sent == 0:  # the session opened after the turn was spoken: send it now
            for chunk in chunks:
                session.send_audio(chunk)
        session.commit()
        return self._final(session, on_partial)

    def _final(self, session: RealtimeSpeechSession, on_partial: OnPartial) -> str:
        deadline = time.monotonic() + self.final_wait_s
        text = ""
        while time.monotonic() < deadline:
            event = session.next_event(0.1)
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
            session, self._sent = self._session, 0
        if session is not None:
            session.clear_input()

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()
