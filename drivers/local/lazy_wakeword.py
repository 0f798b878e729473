"""A wake word detector that loads on its own thread, after the hub is READY.

Loading a detector (numpy, the engine's library, its model: ~0.15 CPU-s here, a second
on a Pi Zero) costs more than the hub's whole start-up budget (READY within 0.3 s). So
the Listener gets this stand-in. The first chunk handed to it (the hub starts the
microphone last, just before READY) starts the load on a thread of its own and waits
for it; meanwhile the captured audio waits in the Listener's mailbox (2 s of it), and
is then heard in order, so a wake word spoken while the hub was still starting is
detected, a little late, and nothing is lost: the turn after it starts from the
Listener's pre-roll, which covers the wait while the load takes less than
``conversation.preroll_ms``.

A load that fails (or takes longer than ``LOAD_TIMEOUT_S``) raises
:class:`WakeWordLoadError` in the Listener, as a detector failing while it runs would:
the error is logged with its cause, the Listener restarts and loads again, and the
Supervisor stops the hub after its usual number of failures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drivers.local.wakeword import WakeDetection
    from speech_api import AudioChunk

log = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 20.0  # a cold start from a slow SD card; then the Listener fails and retries
CLOSE_TIMEOUT_S = 2.0  # a stop waits this long for a load under way (it closes what it loads)


class WakeWordLoadError(RuntimeError):
    """The wake word detector could not be loaded (the cause is chained)."""


class Detector(Protocol):
    def process(self, chunk: AudioChunk) -> WakeDetection | None: ...

    def reset(self) -> None: ...


class LazyWakeWord:
    """``make()`` builds the real detector, on a loader thread started by the first chunk
    (or :meth:`preload`)."""

    def __init__(self, make: Callable[[], Detector], *, name: str,
                 load_timeout_s: float = LOAD_TIMEOUT_S) -> None:
        self.name = name
        self.load_timeout_s = load_timeout_s
        self._make = make
        self._detector: Detector | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()  # set once _detector or _error is
        self._loader: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()  # _detector against close(): one of them closes it

    @property
    def loaded(self) -> bool:
        """True once the detector is there (False while loading, or if the load failed)."""
        return self._done.is_set() and self._detector is not None

    @property
    def alert(self) -> bool:
        """The loaded detector's "a wake may be coming" (the Listener stops batching)."""
        return bool(getattr(self._detector, "alert", False))

    def preload(self) -> None:
        """Start loading now (idempotent; returns at once)."""
        if self._loader is None:
            self._loader = threading.Thread(target=self._load, name="wake-word-load",
                                            daemon=True)
            self._loader.start()

    def process(self, chunk: AudioChunk) -> WakeDetection | None:
        return self.detector().process(chunk)

    def reset(self) -> None:
        if self._detector is not None:
            self._detector.reset()  # before the load there is nothing to forget

    def detector(self) -> Detector:
        """The loaded detector (waits for the load; raises :class:`WakeWordLoadError`)."""
        detector = self._detector
        if detector is not None:
            return detector
        self.preload()
        if not self._done.wait(self.load_timeout_s):
            raise WakeWordLoadError(f"the wake word detector ({self.name}) did not load "
                                    f"within {self.load_timeout_s:g} s")
        if self._detector is None:
            raise WakeWordLoadError(f"the wake word detector ({self.name}) could not be "
                                    f"loaded: {self._error}") from self._error
        return self._detector

    def close(self) -> None:
        loader = self._loader
        if loader is not None and loader is not threading.current_thread():
            loader.join(CLOSE_TIMEOUT_S)
        with self._lock:
            self._closed = True
            detector = self._detector
        _close(detector)

    def _load(self) -> None:
        try:
            detector = self._make()
        except Exception as exc:  # noqa: BLE001 - raised in the Listener by detector()
            self._error = exc
            log.error("the wake word detector (%s) could not be loaded: %s", self.name, exc)
        else:
            with self._lock:
                closed = self._closed
                self._detector = detector
            if closed:  # the Listener stopped while this loaded
                _close(detector)
            log.debug("wake word detector (%s) loaded", self.name)
        finally:
            self._done.set()


def _close(detector: Detector | None) -> None:
    close = getattr(detector, "close", None)
    if callable(close):
        close()
