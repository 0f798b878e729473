"""The Capture actor: a reader thread pulls audio from the device and hands it on.

Blocking reads happen on the reader thread, never in a message loop. Chunks go
into the Listener's bounded mailbox with a nudge only when it was empty, so the
Listener's inbox never fills up with audio. The device driver reopens a vanished
device with backoff (earpiece out of range) inside ``stream``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

from actors import messages as m
from actors.base import HubActor
from actors.mailbox import AudioMailbox
from actors.wiring import CAPTURE, LISTENER, Wiring
from speech_api import AudioChunk

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0


class CaptureDevice(Protocol):
    def stream(self, stop: threading.Event) -> Iterator[AudioChunk]: ...

    def close(self) -> None: ...


class CaptureActor(HubActor):
    role = CAPTURE

    def __init__(
        self,
        wiring: Wiring,
        device_factory: Callable[[], CaptureDevice],
        captured: AudioMailbox,
        on_end: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(wiring)
        self.device_factory = device_factory
        self.captured = captured
        self.on_end = on_end  # the source ended by itself (an input file ran out)
        self.stop_reading = threading.Event()
        self.device: CaptureDevice | None = None
        self.reader: threading.Thread | None = None
        self.chunks = 0

    def setup(self) -> None:
        self.device = self.device_factory()
        self.reader = threading.Thread(target=self._read, name="capture-reader", daemon=True)
        self.reader.start()

    def receive(self, message: object) -> object:
        self.unexpected(message)

    def _read(self) -> None:
        device = self.device
        assert device is not None
        try:
            for chunk in device.stream(self.stop_reading):
                if self.chunks == 0:
                    self.wiring.hooks.device_opened(CAPTURE)
                self.chunks += 1
                if self.captured.put(chunk):
                    self.wiring.peers.tell(LISTENER, m.AudioReady())
        except Exception:
            log.exception("capture reader failed")
        if not self.stop_reading.is_set():
            log.info("capture source ended after %d chunks", self.chunks)
            self.on_end()

    def release(self) -> None:
        self.stop_reading.set()
        if self.device is not None:
            self.device.close()
        if self.reader is not None and self.reader is not threading.current_thread():
            self.reader.join(JOIN_TIMEOUT_S)
            if self.reader.is_alive():
                log.error("capture reader did not stop within %.0f s", JOIN_TIMEOUT_S)
