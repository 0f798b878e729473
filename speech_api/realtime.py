"""The realtime speech-to-speech session interface, blocking and async.

:class:`RealtimeSpeechSession` is what a provider implements (the hub's Session
actor drives it from its thread). :class:`AsyncRealtimeSession` is the seed's
``await session.send_audio(...)`` / ``async for event in session.receive_events()``
face over the same object.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator

from speech_api.audio import AudioChunk
from speech_api.bridge import iterate_in_thread, run_blocking
from speech_api.events import RealtimeEvent


class RealtimeSpeechSession(ABC):
    """One live speech-to-speech conversation with a provider (blocking, thread-safe)."""

    @abstractmethod
    def initialize_session(self) -> None:
        """Send the session settings (voice, instructions, formats, turn detection)."""

    @abstractmethod
    def send_audio(self, chunk: AudioChunk) -> None:
        """Append user audio (converted to the provider's format as needed)."""

    @abstractmethod
    def commit(self) -> None:
        """End the user's turn (when the client, not the server, detects turns)."""

    @abstractmethod
    def clear_input(self) -> None:
        """Drop audio appended since the last commit."""

    @abstractmethod
    def create_response(self) -> None:
        """Ask the model to answer."""

    @abstractmethod
    def cancel_response(self) -> None:
        """Stop the answer being generated (barge-in)."""

    @abstractmethod
    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        """Tell the provider how much of an answer the user actually heard."""

    @abstractmethod
    def send_tool_result(self, call_id: str, output: str) -> None:
        """Return a tool call's result to the model and ask it to go on answering
        (the implementation requests the next response: callers must not)."""

    @abstractmethod
    def next_event(self, timeout: float) -> RealtimeEvent | None:
        """The next event, or None when none arrived within ``timeout`` seconds."""

    @abstractmethod
    def close(self) -> None:
        """End the session; idempotent."""

    def events(self, poll_s: float = 0.5) -> Iterator[RealtimeEvent]:
        """Events until the session is closed."""
        while not self.closed:
            event = self.next_event(poll_s)
            if event is not None:
                yield event

    @property
    @abstractmethod
    def closed(self) -> bool: ...


class AsyncRealtimeSession:
    """The seed's async face over a :class:`RealtimeSpeechSession`."""

    def __init__(self, session: RealtimeSpeechSession) -> None:
        self.sync = session

    async def initialize_session(self) -> None:
        await run_blocking(self.sync.initialize_session)

    async def send_audio(self, chunk: AudioChunk) -> None:
        await run_blocking(lambda: self.sync.send_audio(chunk))

    async def commit(self) -> None:
        await run_blocking(self.sync.commit)

    async def create_response(self) -> None:
        await run_blocking(self.sync.create_response)

    async def cancel_response(self) -> None:
        await run_blocking(self.sync.cancel_response)

    async def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        await run_blocking(lambda: self.sync.truncate(item_id, content_index, audio_end_ms))

    async def send_tool_result(self, call_id: str, output: str) -> None:
        await run_blocking(lambda: self.sync.send_tool_result(call_id, output))

    def receive_events(self, poll_s: float = 0.2) -> AsyncIterator[RealtimeEvent]:
        """Events until the session is closed; leaving the ``async for`` stops the reader
        thread within ``poll_s`` (it checks between waits, not only between events)."""
        stop = threading.Event()

        def events() -> Iterator[RealtimeEvent]:
            while not self.sync.closed and not stop.is_set():
                event = self.sync.next_event(poll_s)
                if event is not None:
                    yield event

        return iterate_in_thread(events, stop=stop)

    async def close(self) -> None:
        await run_blocking(self.sync.close)
