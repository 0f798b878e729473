"""The Wyoming wake word client: a standing stream, detections back, a server that comes back."""

from __future__ import annotations

import threading
import time

from drivers.backoff import Backoff
from drivers.local.wakeword import WakeDetection
from drivers.wyoming import WyomingWakeWord
from speech_api import AudioChunk
from tests.local.speech import concat, flite, silence
from tests.wyoming.servers import free_port
from tests.wyoming.wake_server import WakeServer


def detections(detector: WyomingWakeWord, audio: AudioChunk,
               expect: int) -> list[WakeDetection]:
    """Feed ``audio`` in 20 ms chunks at the pace of a microphone (as the Listener gets
    capture), then silence until ``expect`` detections came back (at most 3 s)."""
    found: list[WakeDetection] = []
    start = time.monotonic()
    pace = threading.Event()  # never set: a timed wait keeps the capture pace
    for i, chunk in enumerate(concat(audio, silence(3000)).split(20)):
        pace.wait(max(0.0, start + i * 0.02 - time.monotonic()))
        if (d := detector.process(chunk)) is not None:
            found.append(d)
        if len(found) >= expect and i * 20 >= (audio.duration_ms or 0):
            break
    return found


def test_the_wake_word_is_heard_at_the_server_and_only_it() -> None:
    with WakeServer() as server:
        detector = WyomingWakeWord(server.uri, names=["okay_nabu"])
        try:
            assert detector.connected.wait(10)
            audio = concat(silence(500), flite("what time is it"), silence(500),
                           flite("okay nabu", "slt"), silence(1500))
            found = detections(detector, audio, 1)
        finally:
            detector.close()
    assert [(d.name, d.phrase) for d in found] == [("okay_nabu", "Okay Nabu")]
    assert server.received[:2] == ["detect", "audio-start"]
    assert set(server.received[2:]) == {"audio-chunk"}


def test_a_server_that_was_away_is_reconnected_and_wakes_the_hub() -> None:
    port = free_port()
    detector = WyomingWakeWord(f"tcp://127.0.0.1:{port}", names=["okay_nabu"],
                               backoff=Backoff(0.1, 0.3))
    try:
        assert not detector.connected.wait(0.5)  # nobody listens yet
        assert detector.process(silence(20)) is None  # never blocks, never fails
        with WakeServer(port) as server:
            assert detector.connected.wait(10)
            found = detections(detector, concat(silence(300), flite("okay nabu", "slt"),
                                                silence(1500)), 1)
            assert [d.name for d in found] == ["okay_nabu"]
            assert server.received[:2] == ["detect", "audio-start"]  # a fresh stream
    finally:
        detector.close()
