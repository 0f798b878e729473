"""A Home Assistant stand-in: the Wyoming side of HA's ``assist_satellite.py``, for the tests.

It connects to the hub's satellite port as Home Assistant's Wyoming integration
does: ``run-satellite``, ``describe``, a ``ping`` two seconds after each ``pong``.
On ``run-pipeline`` it collects the streamed ``audio-chunk``s until ``audio-stop``
and runs a real pipeline on them: speech-to-text at the real wyoming-faster-whisper
server (reporting ``transcribe``, ``transcript``), the scripted answer text
(``synthesize``), and the answer's speech from the real wyoming-piper server,
streamed back as ``audio-start`` + 1024-sample ``audio-chunk``s + ``audio-stop``,
as HA streams its TTS WAV. Every event the hub sends is parsed with the wyoming
library's own event class; one that does not parse, or is not one HA handles, is a
violation. ``leave()`` drops the connection (HA gone), ``come_back()`` reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played
from wyoming.timer import TimerFinished, TimerStarted
from wyoming.tts import Synthesize

from drivers.wyoming import WyomingSpeechToTextClient, WyomingTextToSpeechClient
from speech_api import AudioChunk, join_chunks

SAMPLES_PER_CHUNK = 1024  # what HA's _stream_tts sends per audio-chunk
PING_DELAY_S = 2.0

# what HA's satellite loop reads from a satellite, and the class that parses each
FROM_SATELLITE: dict[str, Any] = {"pong": Pong, "ping": Ping, "run-pipeline": RunPipeline,
                  "audio-chunk": WyomingChunk, "audio-stop": AudioStop, "info": Info,
                  "played": Played}


@dataclass
class Run:
    """One pipeline run as HA saw it."""

    pipeline: RunPipeline
    audio: list[AudioChunk] = field(default_factory=list)
    transcript: str | None = None
    answer_sent_at: float | None = None  # when the answer's audio-start went out
    answer_s: float = 0.0
    played_at: float | None = None


class HomeAssistantStandIn:
    def __init__(self, satellite_uri: str, stt_uri: str, tts_uri: str) -> None:
        host, port = satellite_uri.removeprefix("tcp://").rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.stt = WyomingSpeechToTextClient(stt_uri, language="en")
        self.tts = WyomingTextToSpeechClient(tts_uri, voice="en_US-joe-medium")
        self.answers: list[str] = []  # scripted answers, in order
        self.received: list[str] = []  # event types from the satellite, in order
        self.violations: list[str] = []
        self.info: Info | None = None
        self.runs: list[Run] = []
        self.connections = 0
        self.changed = threading.Condition()
        self._present = threading.Event()
        self._present.set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-home-assistant")
        self._client: AsyncTcpClient | None = None
        self._answering: asyncio.Future[None] | None = None

    # --- the test's side ---------------------------------------------------------------

    def __enter__(self) -> HomeAssistantStandIn:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._run(), self._loop)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        async def stop() -> None:
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        asyncio.run_coroutine_threadsafe(self._loop.shutdown_default_executor(),
                                         self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def wait(self, predicate: object, timeout: float, what: str) -> None:
        assert callable(predicate)
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise AssertionError(f"Home Assistant stand-in: no {what} within {timeout} s; "
                                     f"received {self.received[-20:]}")

    def leave(self) -> None:
        """HA goes away: the connection is dropped and not made again until come_back()."""
        self._present.clear()

        async def drop() -> None:
            if self._client is not None:
                await self._client.disconnect()

        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(10)

    def come_back(self) -> None:
        self._present.set()

    def send_timer(self, timer_id: str, name: str, seconds: int, finished: bool) -> None:
        events = [TimerStarted(id=timer_id, total_seconds=seconds, name=name).event()]
        if finished:
            events.append(TimerFinished(id=timer_id).event())

        async def send() -> None:
            assert self._client is not None
            for event in events:
                await self._client.write_event(event)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(10)

    # --- HA's side (its own loop) -------------------------------------------------------

    def _note(self) -> None:
        with self.changed:
            self.changed.notify_all()

    async def _run(self) -> None:
        while True:
            await asyncio.to_thread(self._present.wait)
            client = AsyncTcpClient(self.host, self.port)
            try:
                await client.connect()
            except OSError:
                await asyncio.sleep(0.05)  # the hub's satellite is not listening yet
                continue
            self._client = client
            self.connections += 1
            self._note()
            try:
                await self._session(client)
            except (OSError, AssertionError, ConnectionError):
                pass
            finally:
                self._client = None
                with contextlib.suppress(OSError, RuntimeError):
                    await client.disconnect()
                self._note()

    async def _session(self, client: AsyncTcpClient) -> None:
        await client.write_event(RunSatellite().event())
        await client.write_event(Describe().event())
        pinger = asyncio.ensure_future(self._ping_later(client))
        run: Run | None = None
        try:
            while self._present.is_set():
                event = await client.read_event()
                if event is None:
                    return
                self._check(event)
                if Pong.is_type(event.type):
                    pinger = asyncio.ensure_future(self._ping_later(client))
                elif Info.is_type(event.type):
                    self.info = Info.from_event(event)
                elif RunPipeline.is_type(event.type):
                    run = Run(RunPipeline.from_event(event))
                    self.runs.append(run)
                    await client.write_event(Transcribe(language="en").event())
                elif WyomingChunk.is_type(event.type) and run is not None:
                    chunk = WyomingChunk.from_event(event)
                    run.audio.append(AudioChunk.pcm(chunk.audio, chunk.rate))
                elif AudioStop.is_type(event.type) and run is not None:
                    self._answering = asyncio.ensure_future(self._answer(client, run))
                    run = None
                elif Played.is_type(event.type):  # for the oldest answer not yet played
                    waiting = [r for r in self.runs if r.answer_sent_at and not r.played_at]
                    if waiting:
                        waiting[0].played_at = time.monotonic()
                    else:
                        self.violations.append("played, with no answer sent")
                self._note()
        finally:
            pinger.cancel()

    async def _ping_later(self, client: AsyncTcpClient) -> None:
        await asyncio.sleep(PING_DELAY_S)  # HA's _send_delayed_ping
        with contextlib.suppress(OSError, AssertionError):
            await client.write_event(Ping().event())

    async def _answer(self, client: AsyncTcpClient, run: Run) -> None:
        audio = join_chunks(run.audio)
        text = await asyncio.to_thread(self.stt.transcribe_blocking, audio, "en")
        run.transcript = text
        await client.write_event(Transcript(text=text).event())
        answer = self.answers.pop(0) if self.answers else "I did not understand."
        await client.write_event(Synthesize(text=answer).event())
        speech = join_chunks(await asyncio.to_thread(
            lambda: list(self.tts.synthesize_stream_blocking(answer))))
        rate = speech.sample_rate
        run.answer_sent_at = time.monotonic()  # when its audio started to go out
        run.answer_s = (speech.duration_ms or 0) / 1000
        await client.write_event(AudioStart(rate=rate, width=2, channels=1, timestamp=0).event())
        step = SAMPLES_PER_CHUNK * 2
        for offset in range(0, len(speech.data), step):
            await client.write_event(WyomingChunk(rate=rate, width=2, channels=1,
                                                  audio=speech.data[offset:offset + step]).event())
        await client.write_event(AudioStop().event())
        self._note()

    def _check(self, event: Event) -> None:
        self.received.append(event.type)
        parser = FROM_SATELLITE.get(event.type)
        if parser is None:
            self.violations.append(f"HA does not handle a {event.type!r} from a satellite")
            return
        try:
            parsed = parser.from_event(event)
        except (KeyError, TypeError, ValueError) as exc:
            self.violations.append(f"{event.type}: {exc!r} in {event.data}")
            return
        if isinstance(parsed, RunPipeline) and (parsed.start_stage, parsed.end_stage) != (
                PipelineStage.ASR, PipelineStage.TTS):
            self.violations.append(f"unexpected pipeline stages {parsed}")
