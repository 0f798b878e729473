"""The Listener actor: VAD, wake word, pre-roll ring and the microphone gate.

Every captured chunk goes through the speech segmenter (the user's speech
started / stopped -> Controller) and the wake word detector. While the Controller has the mic open,
chunks captured at or after ``OpenMic.since_ns`` go on to the Session (through
its audio mailbox); the ring of the last ``preroll_ms`` lets the turn start a
little before the message that opened it arrived. ``CloseMic`` carries the
message (commit / cancel) that must reach the Session *after* the turn's last audio;
``SplitTurn`` puts a commit between two chunks and keeps the mic open; an
``OpenMic(resume=True)`` tells the Session to take its turn back before any new audio.
The level meter measures each stretch of speech against the noise floor; the speech
events carry it, so the Controller can tell the wearer from the room.

While the hub is idle (``HubIdle``) and the mic is closed, the Capture actor nudges the
Listener once per ``IDLE_BATCH_CHUNKS`` chunks instead of at every one: each thread
wake-up costs more than a chunk's work, and an idle hub has nothing to interrupt.
The chunks keep their own capture stamps and go through the detectors one by one, so
only the moment of a decision moves (by less than a batch), never its time stamp.
Once the mic opens or an answer is under way, every chunk is handled as it comes, and
so is every chunk while a trigger may be coming: the wake word detector is ``alert``
(its score rising: the phrase may be under way) or, with no wake word (always
listening: a speech start is the trigger), the VAD hears speech. Both come well before
the decision, so batching delays no wake and no speech start.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from actors import messages as m
from actors.base import HubActor
from actors.mailbox import AudioMailbox
from actors.wiring import CONTROLLER, LISTENER, SESSION, Wiring
from drivers.local.level import LevelMeter, with_levels
from drivers.local.segmenter import SpeechStarted, SpeechStopped, VadEvent
from drivers.local.wakeword import WakeDetection
from speech_api import AudioChunk

log = logging.getLogger(__name__)

# 60 ms of 20 ms chunks: a third of the wake-ups; a wake or speech start decided while
# idle comes at most two chunks later (the earcon's own length dwarfs that)
IDLE_BATCH_CHUNKS = 3


class Segmenter(Protocol):
    def feed(self, chunk: AudioChunk) -> list[VadEvent]: ...

    def reset(self) -> None: ...


class WakeWord(Protocol):
    def process(self, chunk: AudioChunk) -> WakeDetection | None: ...

    def reset(self) -> None: ...


class ListenerActor(HubActor):
    role = LISTENER

    def __init__(
        self,
        wiring: Wiring,
        captured: AudioMailbox,
        to_session: AudioMailbox,
        segmenter_factory: Callable[[], Segmenter],
        *,
        wake_factory: Callable[[], WakeWord | None] = lambda: None,
        preroll_ms: int = 500,
        meter_factory: Callable[[], LevelMeter | None] = LevelMeter,
    ) -> None:
        super().__init__(wiring)
        self.captured = captured
        self.to_session = to_session
        self.segmenter_factory = segmenter_factory
        self.wake_factory = wake_factory
        self.preroll_ms = preroll_ms
        self.meter_factory = meter_factory
        self.meter: LevelMeter | None = None
        self.ring: deque[AudioChunk] = deque()
        self.ring_ms = 0.0
        self.segmenter: Segmenter | None = None
        self.wake: WakeWord | None = None
        self.mic_since_ns: int | None = None  # None: mic closed
        self.muted = False
        self.hub_idle = False  # until the Controller says so: handle every chunk at once
        self.stirred = False  # a trigger may be coming: see the module doc
        self.rebatched = False  # the batch was lowered while draining
        self.dropped_seen = captured.dropped

    def setup(self) -> None:
        self.segmenter = self.segmenter_factory()
        self.wake = self.wake_factory()
        self.meter = self.meter_factory()
        # A restarted Listener finds a full mailbox whose nudge went to its predecessor.
        self.actor_ref.tell(m.AudioReady())
        self.tell(CONTROLLER, m.ActorStarted(LISTENER))  # mic and mute state, please

    def release(self) -> None:
        close = getattr(self.wake, "close", None)
        if callable(close):
            close()

    def receive(self, message: object) -> object:
        match message:
            case m.AudioReady():
                self._drain()
            case m.OpenMic(since_ns=since, resume=resume):
                if resume:
                    self.tell(SESSION, m.ResumeTurn())
                self.mic_since_ns = None  # waiting chunks join the ring, which goes out below
                self.captured.set_batch(1)
                self._drain()
                self.mic_since_ns = since
                for chunk in self.ring:
                    self._forward(chunk)
            case m.CloseMic(then=then):
                self.mic_since_ns = None
                self._pace()
                if then is not None:
                    self.tell(SESSION, then)
            case m.HubIdle(idle=idle):
                self.hub_idle = idle
                self._pace()
            case m.SplitTurn(then=then):
                self.tell(SESSION, then)  # the chunks after it are the next turn's
            case m.SetMuted(muted=muted) if muted != self.muted:
                # the stream is interrupted: start the detectors afresh (only then, since
                # a reset mid-stream shifts the wake word's frames and can cost a detection)
                self.muted = muted
                if self.segmenter is not None:
                    self.segmenter.reset()
                if self.wake is not None:
                    self.wake.reset()
                if self.meter is not None:
                    self.meter.reset()
            case m.SetMuted():
                pass
            case _:
                self.unexpected(message)
        return None

    def _drain(self) -> None:
        for chunk in self.captured.drain():
            self._on_chunk(chunk)
        if self.rebatched:
            # a chunk lowered the batch (the wake word stirs): what came meanwhile would
            # wait for a nudge never sent; once the box is empty, the next chunk nudges
            self.rebatched = False
            for chunk in self.captured.drain():
                self._on_chunk(chunk)
        if self.captured.dropped > self.dropped_seen:
            log.warning("listener fell behind: %d captured chunks dropped so far",
                        self.captured.dropped)
            self.dropped_seen = self.captured.dropped

    def _batching(self) -> bool:
        return self.hub_idle and self.mic_since_ns is None and not self.stirred

    def _pace(self) -> None:
        """Chunks in batches (idle, mic closed) or one by one; going one by one, the
        chunks already waiting are handled now (their batch's nudge would never come)."""
        batch = self._batching()
        self.captured.set_batch(IDLE_BATCH_CHUNKS if batch else 1)
        if not batch:
            self._drain()

    def _on_chunk(self, chunk: AudioChunk) -> None:
        self.ring.append(chunk)
        self.ring_ms += chunk.duration_ms or 0.0
        while self.ring and self.ring_ms - (self.ring[0].duration_ms or 0.0) >= self.preroll_ms:
            self.ring_ms -= self.ring.popleft().duration_ms or 0.0
        if self.muted:
            return
        self._forward(chunk)
        if self.meter is not None:
            self.meter.feed(chunk)  # first: the speech events below may end in this chunk
        if self.segmenter is not None:
            for event, level in with_levels(self.meter, self.segmenter.feed(chunk)):
                if isinstance(event, SpeechStarted):
                    self.tell(CONTROLLER, m.SpeechStarted(event.at_ns, level=level))
                elif isinstance(event, SpeechStopped):
                    self.tell(CONTROLLER, m.SpeechStopped(event.at_ns, level=level))
        measured = self.meter.measured() if self.meter is not None else None
        if measured is not None:  # the speech under way, past its onset (for a barge-in)
            self.tell(CONTROLLER, m.SpeechMeasured(measured, _end_ns(chunk)))
        if self.wake is not None:
            found = self.wake.process(chunk)
            if found is not None:
                log.info("wake word %r heard (score %.2f)", found.name, found.score)
                self.tell(CONTROLLER, m.WakeDetected(found.name, found.at_ns))
        stirred = bool(getattr(self.wake, "alert", False) if self.wake is not None
                       else getattr(self.segmenter, "hearing", False))
        if stirred != self.stirred:  # (inside a drain, which then takes what waits)
            self.stirred = stirred
            batch = self._batching()
            self.captured.set_batch(IDLE_BATCH_CHUNKS if batch else 1)
            self.rebatched = not batch

    def _forward(self, chunk: AudioChunk) -> None:
        since = self.mic_since_ns
        if since is None:
            return
        if _end_ns(chunk) <= since:
            return  # captured before the turn (or during the listening earcon)
        if self.to_session.put(chunk):
            self.tell(SESSION, m.UserAudioReady())


def _end_ns(chunk: AudioChunk) -> int:
    return chunk.captured_at_ns + int((chunk.duration_ms or 0.0) * 1e6)
