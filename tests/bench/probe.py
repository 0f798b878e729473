"""Timestamps taken inside a running hub, at the edges the benchmarks measure.

The hub is built exactly as ``maigic run`` builds it (``build_parts``); the probe
only wraps the parts' factories so that it sees, with ``time.monotonic_ns()``:

- each user audio chunk handed to the engine (its ``captured_at_ns``) and the moment
  ``send_audio`` returned, i.e. the ``input_audio_buffer.append`` frame was sent;
- each provider event (``AudioDelta`` carries the reader thread's ``received_at_ns``);
- each period the playback driver wrote (its own ``on_written`` callback);
- each playback flush (barge-in) and each engine ``interrupt`` (``response.cancel``);
- each VAD decision (the moment the segmenter returned a speech start or end);
- each wake word detection, and each conversation state change.

Nothing is recorded by guessing: every figure is a difference of two such stamps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from actors.engine import ConversationEngine, Emit
from actors.listener import Segmenter, WakeWord
from actors.playback import OnIdle, OnWritten, PlaybackDevice
from drivers.local.segmenter import SpeechStarted, SpeechStopped, VadEvent
from drivers.local.wakeword import WakeDetection
from runtime.hub import Hub
from runtime.hub_parts import HubParts
from speech_api import AudioChunk
from speech_api import events as ev


def now_ns() -> int:
    return time.monotonic_ns()


@dataclass
class Records:
    """Everything the probe saw; plain lists of tuples, saved as JSON by the child."""

    sends: list[tuple[int, float, int]] = field(default_factory=list)  # captured, ms, sent
    deltas: list[tuple[str, str, int, float]] = field(default_factory=list)  # rid, item, rx, ms
    responses: list[tuple[str, int]] = field(default_factory=list)  # rid, received
    writes: list[tuple[str, int, int]] = field(default_factory=list)  # item, played ms, at
    flushes: list[tuple[int, int]] = field(default_factory=list)  # called, returned
    interrupts: list[tuple[int, int, bool]] = field(default_factory=list)  # called, sent, cancel
    end_turns: list[tuple[int, int]] = field(default_factory=list)  # called, commit sent
    vad: list[tuple[str, int, int]] = field(default_factory=list)  # kind, event at, decided
    wakes: list[tuple[int, int]] = field(default_factory=list)  # detection at, decided
    states: list[tuple[str, str, int]] = field(default_factory=list)  # state, cause, at
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enabled: bool = True  # off for memory runs: the lists would grow the RSS measured

    def add(self, name: str, row: Any) -> None:
        if not self.enabled:
            return
        with self.lock:
            getattr(self, name).append(row)

    def count(self, name: str) -> None:
        """Counters are kept even when stamps are not (a few ints)."""
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + 1

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            return {name: list(getattr(self, name)) if name != "counters"
                    else dict(self.counters)
                    for name in ("sends", "deltas", "responses", "writes", "flushes",
                                 "interrupts", "end_turns", "vad", "wakes", "states",
                                 "counters")}


class ProbedEngine:
    """A ConversationEngine that stamps what passes through it, then delegates."""

    def __init__(self, inner: ConversationEngine, records: Records) -> None:
        self.inner = inner
        self.records = records

    def start(self, emit: Emit) -> None:
        def stamped(event: ev.RealtimeEvent) -> None:
            if isinstance(event, ev.AudioDelta):
                ms = len(event.pcm) / 2 / event.sample_rate * 1000
                self.records.add("deltas", (event.response_id, event.item_id,
                                            event.received_at_ns, ms))
            elif isinstance(event, ev.ResponseStarted):
                self.records.count("responses")
                self.records.add("responses", (event.response_id, event.received_at_ns))
            emit(event)

        self.inner.start(stamped)

    def send_audio(self, chunk: AudioChunk) -> None:
        self.inner.send_audio(chunk)
        self.records.add("sends", (chunk.captured_at_ns, chunk.duration_ms or 0.0, now_ns()))

    def end_turn(self) -> None:
        called = now_ns()
        self.inner.end_turn()
        self.records.add("end_turns", (called, now_ns()))

    def cancel_turn(self) -> None:
        self.inner.cancel_turn()

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        called = now_ns()
        self.inner.interrupt(cancel_response, heard)
        self.records.add("interrupts", (called, now_ns(), cancel_response))

    def tool_result(self, call_id: str, output: str) -> None:
        self.inner.tool_result(call_id, output)

    def close(self) -> None:
        self.inner.close()


class ProbedPlayback:
    """The playback device with its flush timed; keeps the driver for its counters."""

    def __init__(self, inner: PlaybackDevice, records: Records) -> None:
        self.inner = inner
        self.records = records

    def open(self) -> None:
        self.inner.open()

    def enqueue(self, chunk: AudioChunk, item_id: str = "") -> None:
        self.inner.enqueue(chunk, item_id)

    def flush(self) -> dict[str, int]:
        called = now_ns()
        played = self.inner.flush()
        self.records.add("flushes", (called, now_ns()))
        return played

    def close(self) -> None:
        self.inner.close()
        with self.records.lock:
            for name in ("underruns", "dropped_frames"):
                key = f"playback_{name}"
                self.records.counters[key] = (self.records.counters.get(key, 0)
                                              + int(getattr(self.inner, name, 0)))


class ProbedSegmenter:
    def __init__(self, inner: Segmenter, records: Records) -> None:
        self.inner = inner
        self.records = records

    def feed(self, chunk: AudioChunk) -> list[VadEvent]:
        events = self.inner.feed(chunk)
        for event in events:
            if isinstance(event, SpeechStarted):
                self.records.add("vad", ("start", event.at_ns, now_ns()))
            elif isinstance(event, SpeechStopped):
                self.records.add("vad", ("end", event.at_ns, now_ns()))
        return events

    @property
    def hearing(self) -> bool:
        return bool(getattr(self.inner, "hearing", False))

    def reset(self) -> None:
        self.inner.reset()


class ProbedWakeWord:
    def __init__(self, inner: WakeWord, records: Records) -> None:
        self.inner = inner
        self.records = records

    def process(self, chunk: AudioChunk) -> WakeDetection | None:
        found = self.inner.process(chunk)
        if found is not None:
            self.records.add("wakes", (found.at_ns, now_ns()))
        return found

    @property
    def alert(self) -> bool:
        return bool(getattr(self.inner, "alert", False))

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def probe_parts(parts: HubParts, records: Records) -> HubParts:
    """``parts`` with every factory wrapped so that its products report to ``records``."""

    def playback(on_written: OnWritten, on_idle: OnIdle) -> PlaybackDevice:
        def written(item_id: str, played_ms: int, at_ns: int) -> None:
            records.add("writes", (item_id, played_ms, at_ns))
            on_written(item_id, played_ms, at_ns)

        return ProbedPlayback(parts.playback(written, on_idle), records)

    def wake() -> WakeWord | None:
        inner = parts.wake()
        return None if inner is None else ProbedWakeWord(inner, records)

    def engine() -> ConversationEngine:
        return ProbedEngine(parts.engine(), records)

    return replace(parts, playback=playback, engine=engine,
                   segmenter=lambda: ProbedSegmenter(parts.segmenter(), records), wake=wake)


class ProbedHub(Hub):
    """The hub, with its state changes stamped."""

    records: Records

    def _on_state(self, state: str, cause: str) -> None:
        self.records.add("states", (state, cause, now_ns()))
        super()._on_state(state, cause)
