"""Listener, Session and Playback actors, each with recording neighbours."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import pykka
import pytest

from actors import messages as m
from actors.engine import Emit
from actors.listener import ListenerActor
from actors.mailbox import AudioMailbox
from actors.playback import PlaybackActor
from actors.session import SessionActor
from actors.wiring import CONTROLLER, PLAYBACK, SESSION, Wiring
from drivers.local.segmenter import SpeechSegmenter
from drivers.local.vad import create_vad
from drivers.local.wakeword import MicroWakeWordDetector
from speech_api import AudioChunk
from speech_api import events as ev
from tests.local.speech import concat, flite, silence


class Recorder(pykka.ThreadingActor):
    def __init__(self, got: list[object]) -> None:
        super().__init__()
        self.got = got

    def on_receive(self, message: object) -> None:
        if not isinstance(message, m.Ping):  # a Ping only waits for earlier messages
            self.got.append(message)


def wait_until(predicate: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def silence_chunk(at_ns: int, ms: int = 20) -> AudioChunk:
    return AudioChunk.pcm(bytes(16 * ms * 2), 16000, captured_at_ns=at_ns)


MS = 1_000_000


def test_listener_forwards_only_audio_after_since_and_commits_after_it() -> None:
    wiring = Wiring()
    to_session: list[object] = []
    wiring.peers.set(SESSION, Recorder.start(to_session))
    wiring.peers.set(CONTROLLER, Recorder.start([]))
    captured, mic = AudioMailbox(), AudioMailbox(1000)
    listener = ListenerActor.start(
        wiring, captured, mic,
        lambda: SpeechSegmenter(create_vad("webrtc", sample_rate=16000)), preroll_ms=200)
    for i in range(50):  # 1 s of audio, 20 ms chunks stamped 0..980 ms
        captured.put(silence_chunk(i * 20 * MS))
    listener.tell(m.AudioReady())
    # the mic opens at 900 ms (e.g. after the earcon): only later audio goes to the provider
    listener.tell(m.OpenMic(since_ns=900 * MS))
    captured.put(silence_chunk(1000 * MS))
    listener.tell(m.AudioReady())
    listener.tell(m.CloseMic(then=m.CommitTurn(1234)))
    wait_until(lambda: m.CommitTurn(1234) in to_session)
    assert [c.captured_at_ns // MS for c in mic.drain()] == [900, 920, 940, 960, 980, 1000]
    assert to_session[-1] == m.CommitTurn(1234)
    assert m.UserAudioReady() in to_session
    pykka.ActorRegistry.stop_all()


def test_listener_keeps_only_the_preroll_ring() -> None:
    wiring = Wiring()
    wiring.peers.set(SESSION, Recorder.start([]))
    captured, mic = AudioMailbox(), AudioMailbox(1000)
    listener = ListenerActor.start(
        wiring, captured, mic,
        lambda: SpeechSegmenter(create_vad("webrtc", sample_rate=16000)), preroll_ms=100)
    for i in range(50):
        captured.put(silence_chunk(i * 20 * MS))
    listener.tell(m.AudioReady())
    listener.tell(m.OpenMic(since_ns=0))  # everything the ring still has
    listener.ask(m.Ping())
    assert [c.captured_at_ns // MS for c in mic.drain()] == [900, 920, 940, 960, 980]
    pykka.ActorRegistry.stop_all()


def test_idle_listener_takes_audio_in_batches_and_catches_up_when_the_mic_opens() -> None:
    wiring = Wiring()
    wiring.peers.set(SESSION, Recorder.start([]))
    wiring.peers.set(CONTROLLER, Recorder.start([]))
    captured, mic = AudioMailbox(), AudioMailbox(1000)
    listener = ListenerActor.start(
        wiring, captured, mic,
        lambda: SpeechSegmenter(create_vad("webrtc", sample_rate=16000)), preroll_ms=200)
    listener.tell(m.HubIdle(True))
    listener.ask(m.Ping())
    # idle with the mic closed: one nudge per three chunks
    assert [captured.put(silence_chunk(i * 20 * MS)) for i in range(3)] == [False, False, True]
    listener.tell(m.AudioReady())
    assert [captured.put(silence_chunk(i * 20 * MS)) for i in range(3, 5)] == [False, False]
    # the two waiting chunks (no nudge yet) are heard before the ring goes to the Session
    listener.tell(m.OpenMic(since_ns=0))
    listener.ask(m.Ping())
    assert [c.captured_at_ns // MS for c in mic.drain()] == [0, 20, 40, 60, 80]
    assert captured.put(silence_chunk(100 * MS)) is True  # mic open: every chunk at once
    listener.tell(m.CloseMic())
    listener.tell(m.HubIdle(False))  # an answer under way: every chunk at once, too
    listener.ask(m.Ping())
    assert captured.put(silence_chunk(120 * MS)) is True
    pykka.ActorRegistry.stop_all()


def _feed_in_batches(listener: pykka.ActorRef[Any], captured: AudioMailbox,
                     audio: AudioChunk) -> list[int]:
    """Put the chunks as a capture thread would (a nudge when ``put`` asks for one, then
    wait for the Listener); the indexes of the chunks that asked for a nudge."""
    nudged = []
    for index, chunk in enumerate(audio.split(20)):
        if captured.put(chunk):
            nudged.append(index)
            listener.tell(m.AudioReady())
            listener.ask(m.Ping())
    return nudged


def _idle_listener_hearing(audio: AudioChunk, wake: bool) -> tuple[list[int], list[object]]:
    """An idle Listener (with the okay_nabu detector or none) fed ``audio`` as Capture
    would: the chunks that asked for a nudge, and what the Controller was told."""
    wiring = Wiring()
    heard: list[object] = []
    wiring.peers.set(SESSION, Recorder.start([]))
    wiring.peers.set(CONTROLLER, Recorder.start(heard))
    captured, mic = AudioMailbox(), AudioMailbox(1000)
    listener = ListenerActor.start(
        wiring, captured, mic,
        lambda: SpeechSegmenter(create_vad("webrtc", sample_rate=16000)),
        wake_factory=lambda: MicroWakeWordDetector("okay_nabu") if wake else None)
    listener.tell(m.HubIdle(True))
    listener.ask(m.Ping())
    try:
        return _feed_in_batches(listener, captured, audio), heard
    finally:
        pykka.ActorRegistry.stop_all()


@pytest.mark.parametrize(("text", "wake", "trigger", "around"), [
    ("okay nabu", True, m.WakeDetected, (-1, 2)),  # from before the wake is decided
    # no wake word (always listening): from the first speech frames, before the start is
    ("what time is it", False, m.SpeechStarted, (3, 12)),
])
def test_idle_listener_goes_chunk_by_chunk_when_a_trigger_may_be_coming(
    text: str, wake: bool, trigger: type[m.WakeDetected | m.SpeechStarted],
    around: tuple[int, int],
) -> None:
    audio = concat(silence(1000), flite(text, "kal16"), silence(1500))
    nudged, heard = _idle_listener_hearing(audio, wake)
    found = [t for t in heard if isinstance(t, trigger)]
    assert len(found) == 1
    at_chunk = found[0].at_ns // (20 * MS)
    assert nudged[:16] == list(range(2, 50, 3))  # in batches of three through the silence
    assert all(i in nudged for i in range(at_chunk + around[0], at_chunk + around[1]))
    assert nudged[-1] - nudged[-5] == 12  # and in batches again in the silence after it


class RecordingEngine:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.emit: Emit | None = None
        self.closed = threading.Event()

    def start(self, emit: Emit) -> None:
        self.emit = emit

    def send_audio(self, chunk: AudioChunk) -> None:
        self.calls.append(("audio", chunk.duration_ms))

    def end_turn(self) -> None:
        self.calls.append(("end_turn", None))

    def cancel_turn(self) -> None:
        self.calls.append(("cancel_turn", None))

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        self.calls.append(("interrupt", (cancel_response, tuple(heard))))

    def tool_result(self, call_id: str, output: str) -> None:
        self.calls.append(("tool", call_id))

    def close(self) -> None:
        self.closed.set()


def delta(rid: str, item: str, ms: int) -> m.ProviderEvent:
    return m.ProviderEvent(ev.AudioDelta(rid, item, 0, bytes(48 * ms), 24000))


class SessionUnderTest:
    def __init__(self, engine: RecordingEngine | None = None,
                 log_conversation: bool = False) -> None:
        self.wiring = Wiring()
        self.playback: list[object] = []
        self.controller: list[object] = []
        self.recorders = [Recorder.start(self.playback), Recorder.start(self.controller)]
        self.wiring.peers.set(PLAYBACK, self.recorders[0])
        self.wiring.peers.set(CONTROLLER, self.recorders[1])
        self.engine = engine or RecordingEngine()
        self.ref = SessionActor.start(self.wiring, lambda: self.engine, AudioMailbox(),
                                      log_conversation)
        self.ref.ask(m.Ping())  # setup done: the engine was started
        assert self.engine.emit is not None
        self.engine.emit(ev.SessionReady())

    def settle(self) -> None:
        """Wait until the Session and both neighbours handled everything sent so far."""
        self.ref.ask(m.Ping())
        for recorder in self.recorders:
            recorder.ask(m.Ping())


def interrupts(engine: RecordingEngine) -> list[object]:
    return [arg for name, arg in engine.calls if name == "interrupt"]


def test_barge_in_cancels_and_truncates_to_what_was_played() -> None:
    t = SessionUnderTest()
    ref, engine, playback, controller = t.ref, t.engine, t.playback, t.controller
    ref.tell(m.CommitTurn(0))
    ref.tell(m.ProviderEvent(ev.ResponseStarted("r1")))
    for _ in range(3):
        ref.tell(delta("r1", "i1", 100))
    ref.tell(m.PlaybackFlushed((("i1", 150),)))
    ref.tell(delta("r1", "i1", 100))  # late audio of the cancelled answer
    ref.tell(m.ProviderEvent(ev.ResponseDone("r1", "cancelled")))
    t.settle()
    assert interrupts(engine) == [(True, (("i1", 150),))]
    assert len([p for p in playback if isinstance(p, m.PlayReply)]) == 3
    assert not any(isinstance(c, m.ReplyFinished) for c in controller)
    assert ("end_turn", None) in engine.calls
    pykka.ActorRegistry.stop_all()


def test_truncation_is_clamped_and_nothing_is_sent_for_0_ms() -> None:
    t = SessionUnderTest()
    ref, engine = t.ref, t.engine
    ref.tell(m.ProviderEvent(ev.ResponseStarted("r1")))
    ref.tell(delta("r1", "i1", 100))
    ref.tell(m.PlaybackFlushed((("i1", 0), ("earcon-wake-1", 50))))
    t.settle()
    assert interrupts(engine) == [(True, ())]  # cancel, but no truncate for 0 ms
    ref.tell(m.ProviderEvent(ev.ResponseStarted("r2")))
    ref.tell(delta("r2", "i2", 100))
    ref.tell(m.PlaybackFlushed((("i2", 400),)))  # more than was received
    t.settle()
    assert interrupts(engine)[-1] == (True, (("i2", 100),))
    pykka.ActorRegistry.stop_all()


def test_a_finished_answer_heard_in_full_is_left_alone() -> None:
    t = SessionUnderTest()
    ref, engine, playback, controller = t.ref, t.engine, t.playback, t.controller
    ref.tell(m.ProviderEvent(ev.ResponseStarted("r1")))
    ref.tell(delta("r1", "i1", 100))
    ref.tell(m.ProviderEvent(ev.ResponseDone("r1")))
    ref.tell(m.PlaybackFlushed((("i1", 100),)))
    t.settle()
    assert interrupts(engine) == []
    assert m.EndOfReply("r1") in playback
    assert m.ReplyFinished("r1", "completed", True) in controller
    pykka.ActorRegistry.stop_all()


def test_interrupt_before_the_answer_started_cancels_it_when_it_starts() -> None:
    t = SessionUnderTest()
    ref, engine, playback = t.ref, t.engine, t.playback
    ref.tell(m.CommitTurn(0))
    ref.tell(m.PlaybackFlushed(()))
    ref.tell(m.ProviderEvent(ev.ResponseStarted("r1")))
    ref.tell(delta("r1", "i1", 100))
    t.settle()
    assert interrupts(engine) == [(True, ())]
    assert not any(isinstance(p, m.PlayReply) for p in playback)
    pykka.ActorRegistry.stop_all()


def test_session_reports_provider_state_and_closes_its_engine() -> None:
    t = SessionUnderTest()
    ref, engine, controller = t.ref, t.engine, t.controller
    assert engine.emit is not None
    engine.emit(ev.SessionReady())
    engine.emit(ev.ConnectionLost(reason="cable"))
    t.settle()
    assert controller[-2:] == [m.ProviderOnline(False), m.ProviderOffline("cable")]
    ref.stop()
    assert engine.closed.is_set()
    pykka.ActorRegistry.stop_all()


class RehearingEngine(RecordingEngine):
    """An engine that hears a resumed turn again whole (as the local engines do)."""

    def resume_turn(self) -> bool:
        self.calls.append(("resume_turn", None))
        return True


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.getMessage().startswith(("user said", "the user went on"))]


def test_a_resumed_turns_transcript_is_marked_superseded_and_a_late_one_dropped(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    t = SessionUnderTest(RehearingEngine(), log_conversation=True)
    ref = t.ref
    ref.tell(m.CommitTurn(0))
    ref.tell(m.ProviderEvent(ev.InputTranscript(item_id="in-1", text="what is", is_final=True)))
    ref.tell(m.ResumeTurn())  # the reader went on: the whole turn is decoded again
    ref.tell(m.ProviderEvent(ev.InputTranscript(item_id="in-1", text="what", is_final=True)))
    ref.tell(m.CommitTurn(0))
    ref.tell(m.ResumeTurn())  # nothing heard since this commit: nothing is superseded
    ref.tell(m.CommitTurn(0))
    ref.tell(m.ProviderEvent(ev.InputTranscript(item_id="in-2", text="what is the time",
                                                is_final=True)))
    t.settle()
    assert said(caplog) == [
        "user said: what is",
        "the user went on speaking: the turn continues "
        "(the transcript above is superseded; the whole turn is heard again)",
        "the user went on speaking: the turn continues",
        "user said: what is the time",
    ]
    assert [name for name, _ in t.engine.calls if name == "resume_turn"] == ["resume_turn"] * 2
    pykka.ActorRegistry.stop_all()


class FakeDevice:
    def __init__(self, on_written: Any, on_idle: Any) -> None:
        self.on_written, self.on_idle = on_written, on_idle
        self.items: list[str] = []

    def open(self) -> None:
        pass

    def enqueue(self, chunk: AudioChunk, item_id: str = "") -> None:
        self.items.append(item_id)

    def flush(self) -> dict[str, int]:
        return {"i1": 40}

    def close(self) -> None:
        pass


def test_playback_reports_first_audio_reply_played_and_drops_flushed_audio() -> None:
    wiring = Wiring()
    session: list[object] = []
    controller: list[object] = []
    recorders = [Recorder.start(session), Recorder.start(controller)]
    wiring.peers.set(SESSION, recorders[0])
    wiring.peers.set(CONTROLLER, recorders[1])
    devices: list[FakeDevice] = []

    def factory(on_written: Any, on_idle: Any) -> FakeDevice:
        devices.append(FakeDevice(on_written, on_idle))
        return devices[-1]

    ref = PlaybackActor.start(wiring, factory, lambda kind: silence_chunk(0, 100))
    chunk = silence_chunk(0, 100)
    ref.tell(m.PlayEarcon("WAKE"))
    ref.tell(m.PlayReply(chunk, "i1", "r1"))
    ref.tell(m.EndOfReply("r1"))
    ref.ask(m.Ping())
    for recorder in recorders:
        recorder.ask(m.Ping())
    device = devices[0]
    assert device.items == ["earcon-wake-1", "i1"]
    device.on_written("earcon-wake-1", 100, 5)
    device.on_written("i1", 20, 7)
    device.on_written("i1", 100, 9)
    device.on_idle()
    wait_until(lambda: m.ReplyPlayed("r1") in controller)
    assert [s for s in session if isinstance(s, m.FirstAudioWritten)] == [
        m.FirstAudioWritten("i1", 7)]
    ref.tell(m.PlayReply(chunk, "i2", "r2"))
    ref.tell(m.FlushPlayback("tap"))
    ref.tell(m.PlayReply(chunk, "i2", "r2"))  # late audio of the flushed answer
    ref.ask(m.Ping())
    for recorder in recorders:
        recorder.ask(m.Ping())
    assert device.items == ["earcon-wake-1", "i1", "i2"]
    assert isinstance(session[-1], m.PlaybackFlushed)
    assert session[-1].played_ms == (("i1", 40),)
    pykka.ActorRegistry.stop_all()


def test_no_interrupt_is_sent_while_the_provider_is_offline() -> None:
    t = SessionUnderTest()
    t.ref.tell(m.ProviderEvent(ev.ResponseStarted("r1")))
    t.ref.tell(delta("r1", "i1", 100))
    t.ref.tell(m.ProviderEvent(ev.ConnectionLost(reason="gone")))
    t.ref.tell(m.PlaybackFlushed((("i1", 60),)))
    t.settle()
    assert interrupts(t.engine) == []
    pykka.ActorRegistry.stop_all()
