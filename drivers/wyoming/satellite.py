"""The hub as a Wyoming satellite: Home Assistant connects to it and runs its Assist pipeline.

What Home Assistant's Wyoming integration does with a satellite (its
``assist_satellite.py``): it connects over TCP, sends ``run-satellite`` and
``describe`` (we answer ``info`` with a ``satellite`` entry), and pings every few
seconds (we answer ``pong``). The satellite asks for a pipeline run with
``run-pipeline`` (here from speech-to-text to text-to-speech: the hub's own wake
word or button decided the turn) and streams the microphone as ``audio-chunk``s,
``audio-stop`` ending the turn. Home Assistant reports ``transcribe``,
``voice-started``/``voice-stopped``, ``transcript``, ``synthesize`` (the answer's
text), then streams the answer as ``audio-start`` + ``audio-chunk``* +
``audio-stop``; the satellite says ``played`` when it has been heard. ``error``
reports a failed run; ``timer-*`` events report Home Assistant's timers;
``pause-satellite`` asks it to stop streaming (muted in Home Assistant).

:class:`WyomingSatellite` serves that protocol on its own loop thread and reports
to a :class:`SatelliteListener` (called on the loop thread: it must not block).
One Home Assistant at a time; a new connection replaces the old one. A link
silent for ``silence_timeout_s`` (no ping) counts as gone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from typing import Protocol
from urllib.parse import urlsplit

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.snd import Played
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted
from wyoming.tts import Synthesize

from drivers.local.framing import to_pcm16_mono
from drivers.wyoming.loop import LoopThread
from speech_api import AudioChunk

log = logging.getLogger(__name__)

SILENCE_TIMEOUT_S = 15.0  # Home Assistant pings about every 2 s while connected


class SatelliteListener(Protocol):
    def connected(self) -> None: ...
    def disconnected(self, reason: str) -> None: ...
    def transcript(self, text: str) -> None: ...
    def answer_text(self, text: str) -> None: ...
    def answer_audio(self, chunk: AudioChunk) -> None: ...
    def answer_end(self) -> None: ...
    def failed(self, message: str, code: str | None) -> None: ...
    def timer(self, kind: str, timer_id: str, name: str | None, seconds: int | None) -> None: ...
    def paused(self) -> None: ...


class WyomingSatellite:
    """A Wyoming satellite server at ``uri`` (tcp://host:port) for Home Assistant."""

    def __init__(self, uri: str, listener: SatelliteListener, *, name: str = "mAIgic hub",
                 area: str | None = None, silence_timeout_s: float = SILENCE_TIMEOUT_S) -> None:
        parts = urlsplit(uri)
        if parts.scheme != "tcp" or parts.port is None:
            raise ValueError(f"expected a satellite address tcp://host:port, found {uri!r}")
        self.host = parts.hostname or "0.0.0.0"
        self.port = parts.port
        self.listener = listener
        self.name = name
        self.area = area
        self.silence_timeout_s = silence_timeout_s
        self._loop = LoopThread("wyoming-satellite")
        self._outgoing: asyncio.Queue[Event] | None = None  # the current connection's
        self._task: concurrent.futures.Future[None] | None = None
        self._closing = False

    # --- the hub's side (any thread; never blocks) ----------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        """Listen; ``OSError`` when the port cannot be had."""
        listening: asyncio.Future[None] | None = None

        async def serve() -> None:
            assert listening is not None
            try:
                server = await asyncio.start_server(self._connection, self.host, self.port)
            except OSError as exc:
                listening.set_exception(exc)
                return
            listening.set_result(None)
            log.info("Wyoming satellite listening on %s:%s", self.host, self.port)
            async with server:
                await server.serve_forever()

        async def started() -> None:
            nonlocal listening
            listening = asyncio.get_running_loop().create_future()
            self._task = self._loop.start(serve)
            await listening

        self._loop.run(started, timeout_s)

    @property
    def is_connected(self) -> bool:
        return self._outgoing is not None

    def begin_turn(self) -> None:
        self._send(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())

    def send_audio(self, chunk: AudioChunk) -> None:
        pcm = to_pcm16_mono(chunk, what="satellite audio")
        self._send(WyomingChunk(rate=pcm.sample_rate, width=2, channels=1,
                                audio=pcm.data).event())

    def end_turn(self) -> None:
        self._send(AudioStop().event())

    def played(self) -> None:
        self._send(Played().event())

    def close(self) -> None:
        self._closing = True  # the connection's end is ours: not reported as HA gone
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    def _send(self, event: Event) -> None:
        def put() -> None:
            if self._outgoing is not None:
                self._outgoing.put_nowait(event)

        self._loop.call_soon(put)

    # --- one Home Assistant connection (the loop thread) -----------------------------

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        outgoing: asyncio.Queue[Event] = asyncio.Queue()
        previous, self._outgoing = self._outgoing, outgoing
        if previous is not None:
            previous.put_nowait(Event(type="__close__"))
        sender = asyncio.ensure_future(self._send_loop(outgoing, writer))
        running = False
        reason = "Home Assistant closed the connection"
        try:
            while not sender.done():
                try:
                    event = await asyncio.wait_for(async_read_event(reader),
                                                   self.silence_timeout_s)
                except TimeoutError:
                    reason = f"Home Assistant silent for {self.silence_timeout_s:.0f} s"
                    break
                except OSError as exc:
                    reason = f"Home Assistant link failed: {exc}"
                    break
                except asyncio.CancelledError:
                    return  # the hub is closing the satellite (finally still runs)
                if event is None:
                    break
                if RunSatellite.is_type(event.type) and not running:
                    running = True
                    self.listener.connected()
                self._dispatch(event, outgoing)
        finally:
            if self._outgoing is outgoing:
                self._outgoing = None
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await sender
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            if running and not self._closing:
                log.warning("Home Assistant gone: %s", reason)
                self.listener.disconnected(reason)

    async def _send_loop(self, outgoing: asyncio.Queue[Event],
                         writer: asyncio.StreamWriter) -> None:
        while True:
            event = await outgoing.get()
            if event.type == "__close__":
                return
            await async_write_event(event, writer)

    def _dispatch(self, event: Event, outgoing: asyncio.Queue[Event]) -> None:
        kind = event.type
        listener = self.listener
        if Ping.is_type(kind):
            outgoing.put_nowait(Pong(text=Ping.from_event(event).text).event())
        elif Describe.is_type(kind):
            outgoing.put_nowait(self._info().event())
        elif Transcript.is_type(kind):
            listener.transcript(Transcript.from_event(event).text)
        elif Synthesize.is_type(kind):
            listener.answer_text(Synthesize.from_event(event).text)
        elif WyomingChunk.is_type(kind):
            chunk = WyomingChunk.from_event(event)
            listener.answer_audio(AudioChunk.pcm(chunk.audio, chunk.rate, channels=chunk.channels,
                                                 bit_depth=8 * chunk.width))
        elif AudioStop.is_type(kind):
            listener.answer_end()
        elif Error.is_type(kind):
            error = Error.from_event(event)
            listener.failed(error.text, error.code)
        elif TimerStarted.is_type(kind):
            started = TimerStarted.from_event(event)
            listener.timer("started", started.id, started.name, started.total_seconds)
        elif TimerCancelled.is_type(kind):
            listener.timer("cancelled", TimerCancelled.from_event(event).id, None, None)
        elif TimerFinished.is_type(kind):
            listener.timer("finished", TimerFinished.from_event(event).id, None, None)
        elif PauseSatellite.is_type(kind):
            listener.paused()
        elif not (RunSatellite.is_type(kind) or AudioStart.is_type(kind)):
            log.debug("Wyoming event from Home Assistant not used: %s", kind)

    def _info(self) -> Info:
        attribution = Attribution(name="mAIgic", url="")
        return Info(satellite=Satellite(
            name=self.name, description="mAIgic earpiece hub", attribution=attribution,
            installed=True, version=None, area=self.area, has_vad=True,
            supports_trigger=False))
