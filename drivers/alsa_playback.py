"""ALSA playback: a bounded buffer drained one period at a time by a writer thread.

The writer keeps only ``lead_periods`` periods ahead of what the listener hears, so
:meth:`AlsaPlayback.flush` (barge-in) silences the device within about one period
and can say how much of each item was really heard. How far ahead we are comes from
the device (``buffer_size - avail()``); devices that swallow audio instantly (the
``file``/``null`` plugins used in tests, some network sinks) report nothing
buffered, so the writer then paces itself by the wall clock instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from drivers.alsa_pcm import (
    EPIPE,
    DeviceLostError,
    Granted,
    OnPresence,
    PcmFactory,
    PcmLike,
    Presence,
    alsa_error_types,
    call_safely,
    close_quietly,
    default_pcm_factory,
    explain_alsa_error,
    open_verified,
    reopen_with_backoff,
    worth_logging,
)
from drivers.backoff import Backoff
from drivers.playback_buffer import DeviceLedger, PlaybackQueue, WallClock
from drivers.resample import StreamResampler, convert_channels
from drivers.volume import VolumeControl
from speech_api.audio import AudioChunk
from speech_api.errors import AudioError

log = logging.getLogger(__name__)

OnWritten = Callable[[str, int, int], None]  # (item_id, ms of it played so far, written_at_ns)
JOIN_TIMEOUT_S = 3.0
IDLE_POLL_S = 0.5


class AlsaPlayback:
    """Play PCM chunks on an ALSA device; see the module docstring for the timing model.

    ``enqueue`` never blocks: it resamples to the device rate (one stateful
    resampler per source rate) and appends to a buffer of at most ``max_buffer_ms``,
    dropping the oldest audio when full (``dropped_ms`` counts it). Underruns are
    counted (``underruns``), never fatal. If the device vanishes the writer reopens it
    with backoff and carries on. Callbacks run on the writer thread and must not block.
    """

    def __init__(
        self,
        device: str,
        sample_rate: int,
        channels: int = 1,
        period_ms: int = 20,
        *,
        max_buffer_ms: int = 60_000,
        periods: int = 4,
        lead_periods: int = 2,
        pcm_factory: PcmFactory | None = None,
        on_written: OnWritten | None = None,
        on_idle: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        volume: VolumeControl | None = None,
        on_presence: OnPresence | None = None,
    ) -> None:
        if sample_rate <= 0 or channels not in (1, 2) or not 1 <= period_ms <= 1000:
            raise ValueError(
                "AlsaPlayback needs sample_rate > 0, channels 1 or 2 and period_ms in 1..1000; "
                f"got {sample_rate}, {channels}, {period_ms}"
            )
        if max_buffer_ms < period_ms or not 1 <= lead_periods < periods:
            raise ValueError(
                f"need max_buffer_ms >= period_ms and 1 <= lead_periods < periods; got "
                f"max_buffer_ms={max_buffer_ms}, lead_periods={lead_periods}, periods={periods}"
            )
        self.device = device
        self.sample_rate = sample_rate
        self.channels = channels
        self.period_ms = period_ms
        self.max_buffer_ms = max_buffer_ms
        self.periods = periods
        self.lead_periods = lead_periods
        self.underruns = 0
        self.dropped_frames = 0
        self._drops = 0  # pushes that dropped audio, for rate-limited warnings
        self.granted: Granted | None = None
        self._factory = pcm_factory or default_pcm_factory
        self._on_written = on_written
        self._on_idle = on_idle
        self._backoff = backoff or Backoff()
        self._volume = volume  # applied per period, so a change is heard within one
        self._pcm: PcmLike | None = None
        self._io_lock = threading.Lock()  # the PCM: writer's write vs flush's drop
        self._lock = threading.Lock()  # queue, ledger, resamplers, state
        self._cond = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: PlaybackQueue | None = None
        self._ledger = DeviceLedger(1)
        self._resamplers: dict[tuple[int, int], tuple[StreamResampler, str]] = {}
        self._playing = False  # wrote audio not yet reported idle
        self._device_fills = False  # the device has shown real buffering (not file/null)
        self._clock = WallClock()
        # told (once per change) when the device opens or goes: the hub's earpiece state
        self.presence = Presence(f"playback device {device}", on_presence)

    # ---- public API -------------------------------------------------------------

    @property
    def device_rate(self) -> int:
        return self.granted.rate if self.granted else self.sample_rate

    @property
    def dropped_ms(self) -> float:
        return self.dropped_frames * 1000 / self.device_rate

    @property
    def buffered_ms(self) -> float:
        """Audio waiting in our buffer (not yet handed to the device)."""
        with self._lock:
            frames = self._queue.frames if self._queue else 0
        return frames * 1000 / self.device_rate

    def open(self) -> None:
        """Open the device and start the writer (raises :class:`DeviceLostError`)."""
        if self._thread is not None:
            return
        try:
            self._open_device()
        except DeviceLostError as exc:
            self.presence.down(exc.reason, self._backoff.next_delay())
            raise
        self.presence.up()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"alsa-playback-{self.device}", daemon=True
        )
        self._thread.start()

    def enqueue(self, chunk: AudioChunk, item_id: str = "") -> None:
        """Queue a PCM16 chunk of any rate and 1-2 channels for playback (never blocks)."""
        if not chunk.is_pcm or chunk.bit_depth != 16 or chunk.channels not in (1, 2):
            raise AudioError(
                "AlsaPlayback.enqueue needs 16-bit mono or stereo PCM, got "
                f"{chunk.format.value} {chunk.bit_depth} bit {chunk.channels} ch"
            )
        with self._cond:
            if self._queue is None or self._stop.is_set():
                raise RuntimeError(f"playback on {self.device!r} is not open; call open() first")
            data = self._convert(chunk.data, chunk.sample_rate, chunk.channels, item_id)
            self._push(item_id, data)
            self._cond.notify_all()

    def flush(self) -> dict[str, int]:
        """Stop sound now; returns the milliseconds actually played of each item.

        Items that were queued but not yet reached are reported with 0.
        """
        with self._io_lock:
            buffered = self._device_buffered()
            with self._cond:
                queued = self._queue.clear() if self._queue else []
                self._resamplers.clear()
                played = self._ledger.played(buffered)
                self._ledger.reset()
                self._playing = False
                self._clock.reset()
                self._cond.notify_all()
            if self._pcm is not None and buffered > 0:
                try:
                    self._pcm.drop()
                except alsa_error_types() as exc:
                    log.warning("%s: dropping buffered audio failed: %s", self.device, exc)
        rate = self.device_rate
        result = {item: frames * 1000 // rate for item, frames in played.items()}
        for item in queued:
            result.setdefault(item, 0)
        return result

    def drain(self, timeout: float) -> bool:
        """Wait until everything queued has been heard; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for (_rate, channels), (resampler, item_id) in list(self._resamplers.items()):
                tail = convert_channels(resampler.flush(), channels, self._device_channels)
                self._push(item_id, tail)
            self._cond.notify_all()
            while (self._queue and self._queue.frames) or self._playing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Stop the writer and close the device (safe to repeat)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("%s: playback writer did not stop within %.0f s", self.device,
                          JOIN_TIMEOUT_S)
        with self._io_lock:
            pcm, self._pcm = self._pcm, None
        close_quietly(pcm)

    def __enter__(self) -> AlsaPlayback:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ------------------------------------------------------------------

    @property
    def _device_channels(self) -> int:
        return self.granted.channels if self.granted else self.channels

    @property
    def _period_frames(self) -> int:
        return self.device_rate * self.period_ms // 1000

    def _open_device(self) -> None:
        pcm, granted = open_verified(
            self._factory, self.device, capture=False, rate=self.sample_rate,
            channels=self.channels, period_frames=self.sample_rate * self.period_ms // 1000,
            periods=self.periods)
        with self._cond:
            previous = self.granted
            if previous is not None and (granted.rate, granted.channels) != (
                previous.rate, previous.channels
            ):
                log.warning("%s reopened at %d Hz/%d ch (was %d Hz/%d ch); dropping queued audio",
                            self.device, granted.rate, granted.channels, previous.rate,
                            previous.channels)
                self._queue = None
                self._resamplers.clear()
            if self._queue is None:
                max_frames = max(1, granted.rate * self.max_buffer_ms // 1000)
                self._queue = PlaybackQueue(2 * granted.channels, max_frames)
            self.granted = granted
            self._ledger = DeviceLedger(granted.buffer_frames)
            self._device_fills = False
            self._clock.reset()
        with self._io_lock:
            self._pcm = pcm

    def _convert(self, pcm: bytes, rate: int, channels: int, item_id: str) -> bytes:
        key = (rate, channels)
        entry = self._resamplers.get(key)
        resampler = entry[0] if entry else StreamResampler(rate, self.device_rate, channels)
        self._resamplers[key] = (resampler, item_id)
        return convert_channels(resampler.process(pcm), channels, self._device_channels)

    def _push(self, item_id: str, data: bytes) -> None:
        assert self._queue is not None
        dropped = self._queue.push(item_id, data)
        if dropped:
            self.dropped_frames += dropped
            self._drops += 1
            if worth_logging(self._drops):  # a flooding provider must not flood the journal
                log.warning("%s: playback buffer full (%d ms); dropped the oldest %d ms "
                            "(%d times so far)", self.device, self.max_buffer_ms,
                            dropped * 1000 // self.device_rate, self._drops)

    def _device_buffered(self) -> int:
        """Frames the device holds that nobody has heard yet (caller holds _io_lock)."""
        if self._pcm is None or self.granted is None:
            return 0
        try:
            avail = self._pcm.avail()
        except alsa_error_types():
            return 0
        if avail < 0:  # -EPIPE: underrun, the device is empty
            return 0
        return max(0, min(self.granted.buffer_frames, self.granted.buffer_frames - avail))

    def _frames_ahead(self) -> int:
        """How far the written audio runs ahead of what is heard (caller holds _io_lock)."""
        buffered = self._device_buffered()
        if buffered > 0:
            self._device_fills = True
        if self._device_fills:
            return buffered
        return self._clock.ahead(self.device_rate)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:
                # A bug must not silently end playback: log it, drop the device, reopen.
                log.exception("%s: playback writer failed; reopening the device", self.device)
                with self._io_lock:
                    pcm, self._pcm = self._pcm, None
                close_quietly(pcm)
                self._stop.wait(self._backoff.next_delay())

    def _step(self) -> None:
        """One turn of the writer: reopen, pace, write a period, or notice idleness."""
        what = f"playback device {self.device}"
        if self._pcm is None:
            reopen_with_backoff(self._open_device, what=what, stop=self._stop,
                                backoff=self._backoff, presence=self.presence)
            return
        with self._io_lock:
            ahead = self._frames_ahead()
        excess = ahead - self.lead_periods * self._period_frames
        if excess > 0:
            self._wait(excess / self.device_rate)
            return
        written = self._write_period()
        if written is None:
            self._idle_or_wait(ahead)
            return
        self._report_written(*written)

    def _wait(self, seconds: float) -> None:
        with self._cond:
            if not self._stop.is_set():
                self._cond.wait(seconds)

    def _write_period(self) -> tuple[list[tuple[str, int]], int, int] | None:
        """Write up to one period; returns (parts, device frames buffered, time) or None."""
        with self._io_lock:
            with self._cond:
                assert self._queue is not None
                data, parts = self._queue.pop(self._period_frames)
            if not data or self._pcm is None:
                return None
            if self._volume is not None:
                data = self._volume.apply(data)
            if self._device_fills and self._playing and self._device_buffered() == 0:
                self._count_underrun()  # the device ran dry while we were playing
            if not self._write(self._pcm, data):
                return None
            written_at = time.monotonic_ns()
            frames = len(data) // (2 * self._device_channels)
            self._clock.wrote(frames, self.device_rate, written_at)
            buffered = self._device_buffered()
            with self._cond:
                self._ledger.record(parts)
                self._playing = True
        self._backoff.reset()
        return parts, buffered, written_at

    def _write(self, pcm: PcmLike, data: bytes) -> bool:
        """One write, retried once after an underrun; False if the device is gone.

        pyalsaaudio recovers from most underruns inside ``write`` (so we also count a
        device found empty mid-stream, see :meth:`_write_period`); older versions
        return -EPIPE, and a failed recovery raises "Broken pipe": all are underruns.
        """
        for _attempt in range(2):
            try:
                if pcm.write(data) != EPIPE:
                    return True
            except alsa_error_types() as exc:
                if "Broken pipe" not in str(exc):
                    return self._lost(pcm, exc)
            self._count_underrun()
        return True

    def _count_underrun(self) -> None:
        self.underruns += 1
        if worth_logging(self.underruns):
            log.warning("%s: playback underrun #%d", self.device, self.underruns)

    def _lost(self, pcm: PcmLike, exc: BaseException) -> bool:
        self.presence.down(explain_alsa_error(self.device, exc), self._backoff.initial)
        self._pcm = None
        close_quietly(pcm)
        return False

    def _report_written(self, parts: list[tuple[str, int]], buffered: int, at_ns: int) -> None:
        if self._on_written is None:
            return
        with self._cond:
            played = self._ledger.played(buffered)
        for item_id, _frames in parts:
            ms = played.get(item_id, 0) * 1000 // self.device_rate
            call_safely(self._on_written, item_id, ms, at_ns)

    def _idle_or_wait(self, ahead: int) -> None:
        """Nothing queued: once the device has played everything out, report idle."""
        with self._cond:
            if self._queue is not None and self._queue.frames:
                return  # raced with enqueue
            if self._playing and ahead <= 0:
                self._playing = False
                self._ledger.reset()
                self._cond.notify_all()
                fire = True
            else:
                fire = False
                wait = ahead / self.device_rate if self._playing else IDLE_POLL_S
                if not self._stop.is_set():
                    self._cond.wait(max(wait, 0.001))
        if fire and self._on_idle is not None:
            call_safely(self._on_idle)

