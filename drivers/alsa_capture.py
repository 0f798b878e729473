"""ALSA capture: fixed-size mono PCM16 chunks stamped with their capture time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from drivers.alsa_pcm import (
    EPIPE,
    DeviceLostError,
    Granted,
    OnPresence,
    PcmFactory,
    PcmLike,
    Presence,
    alsa_error_types,
    close_quietly,
    default_pcm_factory,
    explain_alsa_error,
    open_verified,
    reopen_with_backoff,
    worth_logging,
)
from drivers.backoff import Backoff
from drivers.capture_clock import CaptureClock
from drivers.resample import StreamResampler, to_mono
from speech_api.audio import AudioChunk

log = logging.getLogger(__name__)

PERIODS = 4
CLOSE_WAIT_S = 1.0  # a blocked read returns within one period; this is a safety margin


class AlsaCapture:
    """Read a capture PCM as ``period_ms`` chunks of mono PCM16 at ``sample_rate``.

    ``channels`` is what to ask the device for; output is always mono (stereo-only
    devices are downmixed). If the device grants another rate, the audio is
    resampled to ``sample_rate``; another period size is re-framed. Overruns are
    counted (``overruns``) and logged, never fatal. A device failure closes the PCM
    and raises :class:`DeviceLostError`; :meth:`stream` reopens with backoff.

    One thread reads; :meth:`close` may be called from any thread.
    """

    def __init__(
        self,
        device: str,
        sample_rate: int,
        channels: int = 1,
        period_ms: int = 20,
        *,
        pcm_factory: PcmFactory | None = None,
        on_presence: OnPresence | None = None,
    ) -> None:
        if sample_rate <= 0 or channels not in (1, 2) or not 1 <= period_ms <= 1000:
            raise ValueError(
                "AlsaCapture needs sample_rate > 0, channels 1 or 2 and period_ms in 1..1000; "
                f"got {sample_rate}, {channels}, {period_ms}"
            )
        self.device = device
        self.sample_rate = sample_rate
        self.channels = channels
        self.period_ms = period_ms
        self.chunk_frames = sample_rate * period_ms // 1000
        self.overruns = 0
        self.granted: Granted | None = None
        self._factory = pcm_factory or default_pcm_factory
        self._pcm: PcmLike | None = None
        self._io_lock = threading.Lock()
        self._resampler: StreamResampler | None = None
        self._pending = bytearray()  # mono PCM16 at sample_rate, not yet handed out
        self._pending_start_ns = 0  # capture time of _pending[0]
        self._clock: CaptureClock | None = None  # stamps by samples, not by read times
        # told (once per change) when the device opens or goes: the hub's earpiece state
        self.presence = Presence(f"capture device {device}", on_presence)

    @property
    def is_open(self) -> bool:
        return self._pcm is not None

    def open(self) -> None:
        """Open the device (raises :class:`DeviceLostError` if it is not there)."""
        with self._io_lock:
            if self._pcm is not None:
                return
            pcm, granted = self._open_pcm()
            self.granted = granted
            self._resampler = (
                StreamResampler(granted.rate, self.sample_rate)
                if granted.rate != self.sample_rate else None
            )
            self._pending.clear()
            self._clock = CaptureClock(granted.rate)
            self._pcm = pcm

    def _open_pcm(self) -> tuple[PcmLike, Granted]:
        def attempt(channels: int) -> tuple[PcmLike, Granted]:
            return open_verified(self._factory, self.device, capture=True,
                                 rate=self.sample_rate, channels=channels,
                                 period_frames=self.chunk_frames, periods=PERIODS)

        try:
            return attempt(self.channels)
        except DeviceLostError:
            if self.channels != 1:
                raise
            # Some devices (many USB mics, a few codecs) only offer stereo.
            opened = attempt(2)
            # said only when it worked: a device that is away fails both, at every retry
            log.info("%s refused mono capture; capturing stereo and downmixing", self.device)
            return opened

    def read(self) -> AudioChunk:
        """The next chunk (blocks about one period)."""
        need = self.chunk_frames * 2
        while len(self._pending) < need:
            self._read_period()
        data = bytes(self._pending[:need])
        del self._pending[:need]
        chunk = AudioChunk.pcm(data, self.sample_rate, captured_at_ns=self._pending_start_ns)
        self._pending_start_ns += self.period_ms * 1_000_000
        return chunk

    def _read_period(self) -> None:
        with self._io_lock:
            pcm = self._pcm
            if pcm is None:
                raise DeviceLostError(self.device, "capture is not open")
            try:
                frames, data = pcm.read()
            except alsa_error_types() as exc:
                self._pcm = None
                close_quietly(pcm)
                raise DeviceLostError(self.device, explain_alsa_error(self.device, exc)) from exc
        returned_at = time.monotonic_ns()
        assert self._clock is not None and self.granted is not None
        if frames == EPIPE:
            self.overruns += 1
            self._clock.restart()  # samples were lost: the stream's time starts afresh
            if worth_logging(self.overruns):
                log.warning("%s: capture overrun #%d (audio lost; reading on)", self.device,
                            self.overruns)
            return
        if frames <= 0 or not data:
            time.sleep(self.period_ms / 4000)  # nothing yet; do not spin
            return
        started_ns = self._clock.stamp(frames, returned_at)
        if self.granted.channels == 2:
            data = to_mono(data, 2)
        if self._resampler is not None:
            data = self._resampler.process(data)
        if not self._pending:
            self._pending_start_ns = started_ns
        self._pending += data

    def close(self) -> None:
        """Close the device (safe from any thread, safe to repeat)."""
        # Wait for a blocked read to return rather than freeing the PCM under it.
        locked = self._io_lock.acquire(timeout=CLOSE_WAIT_S)
        try:
            pcm, self._pcm = self._pcm, None
            close_quietly(pcm)
        finally:
            if locked:
                self._io_lock.release()

    def stream(self, stop: threading.Event, backoff: Backoff | None = None) -> Iterator[AudioChunk]:
        """Chunks until ``stop`` is set, reopening with backoff whenever the device is lost."""
        what = f"capture device {self.device}"
        backoff = backoff or Backoff()
        try:
            while not stop.is_set():
                if not self.is_open and not reopen_with_backoff(
                    self.open, what=what, stop=stop, backoff=backoff, presence=self.presence
                ):
                    return
                try:
                    chunk = self.read()
                except DeviceLostError as exc:
                    delay = backoff.next_delay()
                    self.presence.down(exc.reason, delay)
                    self.close()
                    if stop.wait(delay):
                        return
                    continue
                backoff.reset()
                yield chunk
        finally:
            self.close()

    def __enter__(self) -> AlsaCapture:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
