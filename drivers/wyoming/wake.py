"""Wake word detection at a Wyoming server (``wyoming-openwakeword`` and friends).

One standing connection: ``detect`` (the wanted names) + ``audio-start``, then the
capture stream as ``audio-chunk``s; the server answers ``detection`` events. The
detector keeps the :class:`drivers.local.wakeword.WakeWordDetector` interface the
Listener uses: :meth:`process` never blocks (audio is handed to the loop thread
and dropped, oldest first, if the link lags) and returns a detection that arrived
since the last call. A lost server is reconnected with backoff; while it is away
the hub simply does not wake by voice (the button still works).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import queue
import threading

from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.client import AsyncClient
from wyoming.wake import Detect, Detection

from drivers.backoff import Backoff
from drivers.local.framing import to_pcm16_mono
from drivers.local.wakeword import WakeDetection
from drivers.wyoming.connection import check_uri, connected, next_event, send_all
from drivers.wyoming.loop import LoopThread
from speech_api import AudioChunk
from speech_api.errors import APIError

log = logging.getLogger(__name__)

MAX_QUEUED_CHUNKS = 50  # 1 s of 20 ms chunks: a lagging link drops the oldest audio
_NS_PER_MS = 1_000_000


class WyomingWakeWord:
    """Wake word detection by a Wyoming server; the Listener's detector interface."""

    def __init__(self, uri: str, *, names: list[str] | None = None,
                 refractory_ms: float = 2000.0, connect_timeout_s: float = 5.0,
                 backoff: Backoff | None = None) -> None:
        self.uri = check_uri(uri)
        self.names = names
        self.refractory_ms = refractory_ms
        self.connect_timeout_s = connect_timeout_s
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.connected = threading.Event()
        self._audio: collections.deque[AudioChunk] = collections.deque(maxlen=MAX_QUEUED_CHUNKS)
        self._detections: queue.SimpleQueue[Detection] = queue.SimpleQueue()
        self._quiet_until_ms = 0.0
        self._heard_ms = 0.0
        self._loop = LoopThread("wyoming-wake")
        self._wakeup: asyncio.Event | None = None
        self._task = self._loop.start(self._run)

    # --- the detector interface (the Listener's thread) ------------------------------

    def process(self, chunk: AudioChunk) -> WakeDetection | None:
        self._heard_ms += chunk.duration_ms or 0.0
        self._audio.append(chunk)
        self._loop.call_soon(self._nudge)
        found: WakeDetection | None = None
        while True:
            try:
                detection = self._detections.get_nowait()
            except queue.Empty:
                return found
            if found is None and self._heard_ms >= self._quiet_until_ms:
                name = detection.name or "wyoming"
                found = WakeDetection(name=name, phrase=name.replace("_", " ").title(),
                                      at_ns=chunk.captured_at_ns, score=1.0)
                self._quiet_until_ms = self._heard_ms + self.refractory_ms

    def reset(self) -> None:
        self._audio.clear()
        while not self._detections.empty():
            self._detections.get_nowait()

    def close(self) -> None:
        self._task.cancel()

    # --- the link (the loop thread) --------------------------------------------------

    def _nudge(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _run(self) -> None:
        self._wakeup = asyncio.Event()
        while True:
            try:
                await self._session()
            except APIError as exc:
                self.connected.clear()
                delay = self.backoff.next_delay()
                log.warning("wake word server: %s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    async def _session(self) -> None:
        async with connected(self.uri, self.connect_timeout_s, None) as client:
            await send_all(client, [Detect(names=self.names)])
            self.connected.set()
            self.backoff.reset()
            reader = asyncio.ensure_future(self._read(client))
            try:
                rate = None
                while not reader.done():
                    assert self._wakeup is not None
                    self._wakeup.clear()
                    while self._audio:
                        pcm = to_pcm16_mono(self._audio.popleft(), what="wake word audio")
                        if rate != pcm.sample_rate:
                            rate = pcm.sample_rate
                            await send_all(client, [AudioStart(rate=rate, width=2, channels=1)])
                        await send_all(client, [WyomingChunk(rate=rate, width=2, channels=1,
                                                             audio=pcm.data)])
                    waiter = asyncio.ensure_future(self._wakeup.wait())
                    await asyncio.wait([reader, waiter], return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                reader.result()  # the server hung up: raises APIError
            except OSError as exc:
                raise APIError(f"Wyoming server {self.uri}: {exc}", provider="wyoming",
                               retryable=True) from None
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, APIError):
                    await reader

    async def _read(self, client: AsyncClient) -> None:
        while True:
            event = await next_event(client, self.uri)
            if Detection.is_type(event.type):
                self._detections.put(Detection.from_event(event))
