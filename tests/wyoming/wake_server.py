"""A Wyoming wake word server for the tests, built on the wyoming library's own server.

No wyoming-openwakeword release installs on this Python (it pins wyoming 1.2 and a
nightly tflite runtime), so this stand-in plays its part with a real detector: the
hub's own micro wake word engine (pymicro-wakeword, okay_nabu) runs on the audio the
client streams, and a ``detection`` goes back exactly as wyoming-openwakeword sends it.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.event import Event
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.wake import Detect, Detection

from drivers.local.wakeword import MicroWakeWordDetector
from speech_api import AudioChunk
from tests.wyoming.servers import free_port


class WakeServer:
    """``with WakeServer() as server``: listening on ``server.uri`` in a thread of its own."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.uri = f"tcp://127.0.0.1:{self.port}"
        self.received: list[str] = []  # event types, in order
        self.detections = 0
        self._loop = asyncio.new_event_loop()
        self._server = AsyncTcpServer("127.0.0.1", self.port)
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-wake-server")

    def __enter__(self) -> WakeServer:
        self._thread.start()
        server = self

        class Handler(AsyncEventHandler):
            detector = MicroWakeWordDetector("okay_nabu", refractory_ms=2000)

            async def handle_event(self, event: Event) -> bool:
                server.received.append(event.type)
                if Detect.is_type(event.type):
                    assert Detect.from_event(event).names == ["okay_nabu"]
                elif AudioStart.is_type(event.type):
                    self.detector.reset()
                elif WyomingChunk.is_type(event.type):
                    chunk = WyomingChunk.from_event(event)
                    pcm = AudioChunk.pcm(chunk.audio, chunk.rate)
                    if self.detector.process(pcm) is not None:
                        server.detections += 1
                        await self.write_event(Detection(name="okay_nabu").event())
                return True

        asyncio.run_coroutine_threadsafe(self._server.start(Handler), self._loop).result(10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
