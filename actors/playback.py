"""The Playback actor: owns the sound output, plays answers and earcons, stops on demand.

The device driver has its own writer thread and bounded buffer; this actor only
enqueues (non-blocking), flushes, and turns the driver's callbacks (period
written, buffer ran dry) into messages: the first period of an answer reaching
the device (timing), and "this answer has been heard in full" (ReplyPlayed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pykka

from actors import messages as m
from actors.base import HubActor
from actors.timer import DeadlineTimer
from actors.wiring import CONTROLLER, PLAYBACK, SESSION, Wiring, tell_quietly
from drivers.backoff import Backoff
from speech_api import AudioChunk

log = logging.getLogger(__name__)

OnWritten = Callable[[str, int, int], None]
OnIdle = Callable[[], None]


class PlaybackDevice(Protocol):
    def open(self) -> None: ...

    def enqueue(self, chunk: AudioChunk, item_id: str = "") -> None: ...

    def flush(self) -> dict[str, int]: ...

    def close(self) -> None: ...


PlaybackFactory = Callable[[OnWritten, OnIdle], PlaybackDevice]
EarconRenderer = Callable[[str], AudioChunk | None]


@dataclass(frozen=True, slots=True)
class _Written:
    item_id: str
    played_ms: int
    at_ns: int


@dataclass(frozen=True, slots=True)
class _Idle:
    pass


@dataclass(frozen=True, slots=True)
class _Reopen:
    token: int


@dataclass(slots=True)
class _Reply:
    items: dict[str, float] = field(default_factory=dict)  # item id -> ms received
    ended: bool = False


class PlaybackActor(HubActor):
    role = PLAYBACK

    def __init__(
        self,
        wiring: Wiring,
        device_factory: PlaybackFactory,
        render_earcon: EarconRenderer = lambda _kind: None,
        period_ms: int = 20,
    ) -> None:
        super().__init__(wiring)
        self.device_factory = device_factory
        self.render_earcon = render_earcon
        self.period_ms = period_ms
        self.device: PlaybackDevice | None = None
        self.pending: PlaybackDevice | None = None  # made, not opened yet (no earpiece)
        self.replies: dict[str, _Reply] = {}  # response id -> what it sent
        self.played: dict[str, int] = {}  # item id -> ms written to the device
        self.flushed: set[str] = set()  # response ids whose late audio is dropped
        self.earcons = 0
        self.device_idle = True  # the device played out everything it was given
        self.backoff = Backoff(0.2, 5.0)
        self.retry: DeadlineTimer | None = None

    def setup(self) -> None:
        ref: pykka.ActorRef[Any] = self.actor_ref
        self.retry = DeadlineTimer(lambda token: tell_quietly(ref, _Reopen(token)),
                                   name="playback-retry")
        self._open()

    def _open(self) -> None:
        # One device object across retries: its driver says once that it is missing
        # (not once per retry), and reports when it opens.
        if self.pending is None:
            ref: pykka.ActorRef[Any] = self.actor_ref
            self.pending = self.device_factory(
                lambda item, ms, at: tell_quietly(ref, _Written(item, ms, at)),
                lambda: tell_quietly(ref, _Idle()),
            )
        try:
            self.pending.open()
        except Exception as exc:  # noqa: BLE001 - DeviceLostError and friends: retry
            delay = self.backoff.next_delay()
            # the driver (or the hub's earpiece state) says so once; this is per retry
            log.debug("playback device did not open (%s); retrying in %.1f s", exc, delay)
            if self.retry is not None:
                self.retry.arm(delay, 0)
            return
        self.backoff.reset()
        self.device, self.pending = self.pending, None
        self.wiring.hooks.device_opened(PLAYBACK)

    def release(self) -> None:
        if self.retry is not None:
            self.retry.close()
        for device in (self.device, self.pending):
            if device is not None:
                device.close()

    def receive(self, message: object) -> object:
        match message:
            case m.PlayReply(chunk=chunk, item_id=item, response_id=rid):
                if rid in self.flushed:
                    return None
                reply = self.replies.setdefault(rid, _Reply())
                reply.items[item] = reply.items.get(item, 0.0) + (chunk.duration_ms or 0.0)
                self._enqueue(chunk, item)
            case m.PlayEarcon(kind=kind):
                sound = self.render_earcon(kind)
                if sound is not None:
                    log.info("earcon %s", kind)
                    self.earcons += 1
                    self._enqueue(sound, f"earcon-{kind.lower()}-{self.earcons}")
            case m.EndOfReply(response_id=rid):
                if rid in self.replies:
                    self.replies[rid].ended = True
                    self._report_played(idle=self.device_idle)
            case m.FlushPlayback(reason=reason):
                self._flush(reason)
            case _Written(item_id=item, played_ms=ms, at_ns=at_ns):
                if item not in self.played and self._is_reply_item(item):
                    self.tell(SESSION, m.FirstAudioWritten(item, at_ns))
                self.played[item] = max(ms, self.played.get(item, 0))
            case _Idle():
                self.device_idle = True
                self._report_played(idle=True)
            case _Reopen():
                if self.device is None:
                    self._open()
            case _:
                self.unexpected(message)
        return None

    def _enqueue(self, chunk: AudioChunk, item_id: str) -> None:
        if self.device is None:
            log.debug("playback device not open; %s dropped", item_id)
            return
        self.device_idle = False
        self.device.enqueue(chunk, item_id)

    def _is_reply_item(self, item_id: str) -> bool:
        return any(item_id in reply.items for reply in self.replies.values())

    def _report_played(self, idle: bool = False) -> None:
        """ReplyPlayed for each ended answer whose audio has all been written."""
        slack = 2 * self.period_ms
        for rid, reply in list(self.replies.items()):
            heard = all(self.played.get(i, 0) >= ms - slack for i, ms in reply.items.items())
            # A device that buffers reports the last periods as written, not yet heard;
            # once it went idle after the reply ended, all of it was heard.
            if reply.ended and (heard or idle):
                del self.replies[rid]
                for item in reply.items:
                    self.played.pop(item, None)
                self.tell(CONTROLLER, m.ReplyPlayed(rid))

    def _flush(self, reason: str) -> None:
        played = self.device.flush() if self.device is not None else {}
        self.flushed.update(self.replies)
        if len(self.flushed) > 100:
            self.flushed = set(list(self.flushed)[-50:])
        self.replies.clear()
        self.played.clear()
        log.info("playback flushed (%s): played %s", reason, played or "nothing")
        self.tell(SESSION, m.PlaybackFlushed(tuple(sorted(played.items()))))
