"""What capture and playback share: the PCM seam, the device-lost error, reopening.

``pcm_factory`` is the seam tests use to inject fake PCM objects (xruns, a device
that vanishes): it is called with pyalsaaudio's keyword arguments and returns
anything shaped like :class:`PcmLike`. The default opens a real ``alsaaudio.PCM``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.backoff import Backoff

log = logging.getLogger(__name__)

EPIPE = -32  # pyalsaaudio returns -EPIPE for an xrun; the stream is already re-prepared


def worth_logging(count: int) -> bool:
    """Log the first few xruns and then every 100th: a struggling device must not flood."""
    return count <= 3 or count % 100 == 0


class DeviceLostError(Exception):
    """The PCM could not be opened or vanished mid-stream; retrying later may work.

    Raised for an earpiece out of range, bluealsa down, a USB card unplugged.
    ``device`` names the PCM; the message says what ALSA reported.
    """

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"audio device {device!r} unavailable: {reason}")
        self.device = device
        self.reason = reason


class PcmLike(Protocol):
    """The part of ``alsaaudio.PCM`` the drivers use."""

    def info(self) -> Mapping[str, Any]: ...
    def read(self) -> tuple[int, bytes]: ...
    def write(self, data: bytes) -> int: ...
    def avail(self) -> int: ...
    def drop(self) -> Any: ...
    def close(self) -> Any: ...


PcmFactory = Callable[..., PcmLike]


def alsa_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the device failed" (ALSA's own, plus OSError)."""
    try:
        import alsaaudio
    except ImportError:  # pragma: no cover - pyalsaaudio is a core dependency
        return (OSError,)
    return (alsaaudio.ALSAAudioError, OSError)


def explain_alsa_error(device: str, exc: BaseException) -> str:
    """ALSA's message plus a hint where ALSA's own words mislead."""
    text = str(exc) or type(exc).__name__
    if device.startswith("bluealsa") and "Cannot allocate memory" in text:
        text += " (bluealsa says this when its daemon is down or the earpiece is not connected)"
    return text


_alsa_lib_handlers: list[Any] = []  # kept alive for good: alsa-lib holds a pointer to it
_alsa_lib_lock = threading.Lock()  # capture and playback open their first PCM together


def route_alsa_lib_errors() -> None:
    """Send alsa-lib's own error prints (stderr, one per failed open) to our DEBUG log.

    Without this, every retry of an absent earpiece writes "ALSA lib ... Couldn't get
    BlueALSA PCM" to the journal; the drivers already log each change once, with
    ALSA's reason. pyalsaaudio does not expose snd_lib_error_set_handler, so ctypes
    sets it in the libasound pyalsaaudio already loaded (the same shared library).
    """
    with _alsa_lib_lock:
        _set_alsa_lib_handler()


def _set_alsa_lib_handler() -> None:
    if _alsa_lib_handlers:
        return
    import ctypes
    import ctypes.util

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
    except OSError:
        return
    # void (*)(const char *file, int line, const char *function, int err, const char *fmt, ...)
    # The variadic arguments are not read: the format string and errno say enough.
    # use_errno: alsa-lib reads errno right after reporting ("return -errno"); Python
    # code in the handler would clobber it (and an open would "succeed" half-done).
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                    ctypes.c_int, ctypes.c_char_p, use_errno=True)

    def handler(file: bytes | None, line: int, function: bytes | None, err: int,
                fmt: bytes | None) -> None:
        log.debug("alsa-lib %s:%d (%s): %s%s", (file or b"").decode(errors="replace"), line,
                  (function or b"").decode(errors="replace"),
                  (fmt or b"").decode(errors="replace"), f" [errno {err}]" if err else "")

    _alsa_lib_handlers.append(handler_type(handler))
    lib.snd_lib_error_set_handler(_alsa_lib_handlers[0])


def default_pcm_factory(**kwargs: Any) -> PcmLike:
    """Open a real ALSA PCM (keyword arguments only: pyalsaaudio's positional order differs)."""
    import alsaaudio

    route_alsa_lib_errors()

    pcm: PcmLike = alsaaudio.PCM(**kwargs)
    return pcm


def pcm_kwargs(*, capture: bool, device: str, rate: int, channels: int, period_frames: int,
               periods: int) -> dict[str, Any]:
    """pyalsaaudio constructor arguments for 16-bit interleaved blocking I/O."""
    import alsaaudio

    return {
        "type": alsaaudio.PCM_CAPTURE if capture else alsaaudio.PCM_PLAYBACK,
        "mode": alsaaudio.PCM_NORMAL,
        "device": device,
        "rate": rate,
        "channels": channels,
        "format": alsaaudio.PCM_FORMAT_S16_LE,
        "periodsize": period_frames,
        "periods": periods,
    }


@dataclass(frozen=True, slots=True)
class Granted:
    """What the device actually agreed to (rates and periods are set "near")."""

    rate: int
    channels: int
    period_frames: int
    buffer_frames: int

    @classmethod
    def from_info(cls, info: Mapping[str, Any], asked: Granted) -> Granted:
        return cls(
            rate=int(info.get("rate", asked.rate)),
            channels=int(info.get("channels", asked.channels)),
            period_frames=int(info.get("period_size", asked.period_frames)),
            buffer_frames=int(info.get("buffer_size", asked.buffer_frames)),
        )


def open_checked(factory: PcmFactory, device: str, kwargs: dict[str, Any]) -> PcmLike:
    """Call the factory, turning ALSA's failures into :class:`DeviceLostError`."""
    try:
        return factory(**kwargs)
    except alsa_error_types() as exc:
        raise DeviceLostError(device, explain_alsa_error(device, exc)) from exc


def open_verified(
    factory: PcmFactory, device: str, *, capture: bool, rate: int, channels: int,
    period_frames: int, periods: int,
) -> tuple[PcmLike, Granted]:
    """Open a PCM and read back what it granted (rates and periods are set "near").

    Refuses devices that grant other than 1-2 channels; logs any other difference so
    the caller can resample or re-frame.
    """
    asked = Granted(rate, channels, period_frames, period_frames * periods)
    kwargs = pcm_kwargs(capture=capture, device=device, rate=rate, channels=channels,
                        period_frames=period_frames, periods=periods)
    pcm = open_checked(factory, device, kwargs)
    granted = Granted.from_info(pcm.info(), asked)
    if granted.channels not in (1, 2):
        close_quietly(pcm)
        raise DeviceLostError(device, f"granted {granted.channels} channels; expected 1 or 2")
    if granted != asked:
        log.info("%s granted %s (asked %s)", device, granted, asked)
    return pcm, granted


def close_quietly(pcm: PcmLike | None) -> None:
    """Close a PCM that may already be broken."""
    if pcm is None:
        return
    try:
        pcm.close()
    except Exception as exc:  # noqa: BLE001 - a dead device may fail in any way on close
        log.debug("closing PCM failed: %s", exc)


OnPresence = Callable[[bool, str], None]  # (device usable, why) - called on changes only


class Presence:
    """Whether a device is usable, reported and logged once per change, never per retry.

    An earpiece is away most of the day: a retry every few seconds must not write a
    line each time. The first failure after a success (or at start) is logged at INFO
    and reported to ``on_change``; further failures go to DEBUG; the next success is
    logged and reported once more.
    """

    def __init__(self, what: str, on_change: OnPresence | None = None) -> None:
        self.what = what
        self.on_change = on_change
        self.present: bool | None = None  # None: not tried yet

    def up(self) -> None:
        if self.present is True:
            return
        if self.present is False:
            log.info("%s is open again", self.what)
        self.present = True
        self._report(True, "open")

    def down(self, reason: str, retry_s: float) -> None:
        if self.present is False:
            log.debug("still waiting for %s: %s; retrying in %.1f s", self.what, reason, retry_s)
            return
        lead = f"{self.what} lost" if self.present else f"waiting for {self.what}"
        log.info("%s: %s; retrying quietly with backoff (up to %.0f s apart)",
                 lead, reason, MAX_RETRY_S)
        self.present = False
        self._report(False, reason)

    def _report(self, present: bool, reason: str) -> None:
        if self.on_change is not None:
            call_safely(self.on_change, present, reason)


MAX_RETRY_S = 10.0  # Backoff()'s default maximum: a returning earpiece is found within it


def reopen_with_backoff(
    open_fn: Callable[[], object],
    *,
    what: str,
    stop: threading.Event,
    backoff: Backoff | None = None,
    presence: Presence | None = None,
) -> bool:
    """Call ``open_fn`` until it stops raising :class:`DeviceLostError` or ``stop`` is set.

    Says what it is waiting for once per change (``presence``; ``what`` names the
    device for the owner, e.g. "capture device bluealsa:DEV=...,PROFILE=sco"), not at
    every retry. Returns True once open, False if stopped first. The caller resets
    ``backoff`` once the device has actually worked (a device that opens but fails at
    once must not retry in a tight loop).
    """
    backoff = backoff or Backoff()
    presence = presence or Presence(what)
    while not stop.is_set():
        try:
            open_fn()
        except DeviceLostError as exc:
            delay = backoff.next_delay()
            presence.down(exc.reason, delay)
            if stop.wait(delay):
                return False
            continue
        presence.up()
        return True
    return False


def call_safely(callback: Callable[..., None], *args: object) -> None:
    """Run a user callback on a driver thread; its bug must not stop the driver."""
    try:
        callback(*args)
    except Exception:
        log.exception("callback %r failed", callback)
