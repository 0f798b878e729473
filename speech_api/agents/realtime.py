"""The realtime voice agent: one speech-to-speech session (e.g. OpenAI Realtime).

The source's audio streams into the session; the model's spoken answer goes to
the sink as it arrives. Speech the provider hears while an answer plays is
barge-in: the answer is cancelled if still streaming, the sink flushed, and the
provider told how much of it the user really heard (truncate). Tool calls run
here and their results go back to the model, which then answers.

When the source ends the user's turn is closed (commit + response, or a short
silence for the server's VAD) and the agent returns once the answer was played.
"""

from __future__ import annotations

import asyncio
import contextlib

from speech_api.agents.base import Emit, Stopwatch, VoiceAgent
from speech_api.audio import AudioChunk
from speech_api.barge_in import truncation_points
from speech_api.bridge import run_blocking
from speech_api.chat import ToolBox, ToolRunner
from speech_api.errors import APIError
from speech_api.events import (
    AudioDelta,
    FunctionCall,
    ProviderError,
    RealtimeEvent,
    ResponseDone,
    ResponseStarted,
    SpeechStarted,
    SpeechStopped,
    ToolResult,
    TurnTiming,
)
from speech_api.realtime import AsyncRealtimeSession, RealtimeSpeechSession
from speech_api.sinks import AudioSink
from speech_api.sources import AudioSource

END_SILENCE_MS = 1200  # lets a server VAD hear the end of the last turn
END_QUIET_S = 1.5  # after the source ended with nothing pending, how long to wait for more


class RealtimeAgent(VoiceAgent):
    """``session``: an initialised speech-to-speech session (async face or blocking)."""

    def __init__(
        self,
        session: AsyncRealtimeSession | RealtimeSpeechSession,
        sink: AudioSink,
        *,
        tools: ToolBox | None = None,
        server_turns: bool = True,
        answer_timeout_s: float = 30.0,
        barge_in: bool = True,
    ) -> None:
        super().__init__(sink)
        self.session = session if isinstance(session, AsyncRealtimeSession) else \
            AsyncRealtimeSession(session)
        self.tools = ToolRunner(tools)
        self.server_turns = server_turns  # False: the end of the source commits the turn
        self.answer_timeout_s = answer_timeout_s
        self.barge_in = barge_in
        self._playing = False  # some of the answer went to the sink since the last barge-in
        self._received: dict[str, tuple[int, float]] = {}  # item -> (content_index, ms) of answer
        self._streaming: str | None = None  # response id still generating
        self._watch: Stopwatch | None = None
        self._turn_ended_ns: int | None = None  # when the provider heard the user stop
        self._awaiting_answer = False  # a turn ended and its answer has not finished

    async def _drive(self, source: AudioSource, emit: Emit) -> None:
        ended = asyncio.Event()
        queue: asyncio.Queue[RealtimeEvent | None] = asyncio.Queue()
        sender = asyncio.create_task(self._send(source, ended))
        receiver = asyncio.create_task(self._receive(queue))
        tool_pending = False
        try:
            while (event := await self._next(queue, ended, tool_pending)) is not None:
                emit(event)
                if isinstance(event, FunctionCall):
                    tool_pending = True
                    await self._run_tool(event, emit)
                elif isinstance(event, ResponseStarted):
                    tool_pending = False
                await self._on_event(event, emit)
                if isinstance(event, ResponseDone) and ended.is_set() and not tool_pending:
                    break
            await sender
        finally:
            for task in (sender, receiver):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.sink.drain()

    async def _receive(self, queue: asyncio.Queue[RealtimeEvent | None]) -> None:
        """Moves the session's events into ``queue`` (None: the session ended)."""
        try:
            async for event in self.session.receive_events():
                queue.put_nowait(event)
        finally:
            queue.put_nowait(None)

    async def _next(self, queue: asyncio.Queue[RealtimeEvent | None], ended: asyncio.Event,
                    tool_pending: bool) -> RealtimeEvent | None:
        """The next event; None when the conversation is over.

        Once the source ended: over when nothing is pending for ``END_QUIET_S`` (the
        server may still report a turn), or ``answer_timeout_s`` after a turn whose
        answer has not come.
        """
        while True:
            if not ended.is_set():
                getter = asyncio.ensure_future(queue.get())
                waiter = asyncio.ensure_future(ended.wait())
                await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if getter.done():
                    return getter.result()
                getter.cancel()
                continue  # the source just ended: wait with a timeout from now on
            idle = not self._awaiting_answer and self._streaming is None and not tool_pending
            try:
                return await asyncio.wait_for(
                    queue.get(), END_QUIET_S if idle else self.answer_timeout_s)
            except TimeoutError:
                return None

    async def _send(self, source: AudioSource, ended: asyncio.Event) -> None:
        last: AudioChunk | None = None
        async for chunk in source:
            await self.session.send_audio(chunk)
            last = chunk
        if last is not None:
            if self.server_turns:
                frames = last.sample_rate * END_SILENCE_MS // 1000
                await self.session.send_audio(AudioChunk.pcm(bytes(frames * 2), last.sample_rate))
            else:
                self._awaiting_answer = True
                await self.session.commit()
                await self.session.create_response()
        ended.set()

    async def _on_event(self, event: RealtimeEvent, emit: Emit) -> None:
        if isinstance(event, ResponseStarted):
            self._streaming = event.response_id
            self._received = {}
            self._watch = Stopwatch(event.response_id, self._turn_ended_ns or event.received_at_ns)
            self._turn_ended_ns = None
        elif isinstance(event, SpeechStopped):
            self._turn_ended_ns = event.received_at_ns
            self._awaiting_answer = True
        elif isinstance(event, AudioDelta):
            if self._streaming != event.response_id:
                return  # late audio of an answer that was cancelled
            if self._watch is not None:
                self._watch.audio()
            self._playing = True
            chunk = AudioChunk.pcm(event.pcm, event.sample_rate)
            _, received = self._received.get(event.item_id, (event.content_index, 0.0))
            self._received[event.item_id] = (event.content_index,
                                              received + (chunk.duration_ms or 0.0))
            await self.sink.play(chunk, event.item_id)
        elif isinstance(event, ResponseDone):
            self._awaiting_answer = False
            if self._streaming == event.response_id:
                self._streaming = None
            if self._watch is not None and self._watch.response_id == event.response_id:
                emit(self._timing(self._watch))
                self._watch = None
        elif isinstance(event, SpeechStarted) and self.barge_in and self._playing:
            await self.interrupt()
        elif isinstance(event, ProviderError) and event.fatal:
            raise APIError(event.message, provider="realtime", code=event.code)

    def _timing(self, watch: Stopwatch) -> TurnTiming:
        return TurnTiming(response_id=watch.response_id, transcribed_ms=None, first_text_ms=None,
                          first_audio_ms=watch.first_audio_ms, total_ms=watch.now_ms())

    async def _run_tool(self, call: FunctionCall, emit: Emit) -> None:
        output = await run_blocking(lambda: self.tools.run(call.name, call.arguments))
        emit(ToolResult(call_id=call.call_id, name=call.name, output=output))
        await self.session.send_tool_result(call.call_id, output)

    async def interrupt(self) -> None:
        """Barge-in: cancel the answer, silence the sink, truncate to what was heard."""
        answering = self._streaming is not None
        if answering:
            self._streaming = None
            await self.session.cancel_response()
        heard = await self.sink.flush()
        if self._playing:
            self._playing = False
            received = {item: ms for item, (_, ms) in self._received.items()}
            for item_id, ms in truncation_points(heard, received, answering=answering):
                await self.session.truncate(item_id, self._received[item_id][0], ms)
