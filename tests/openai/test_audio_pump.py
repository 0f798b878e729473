"""The realtime audio pump: a stalled link never blocks the caller, memory stays bounded."""

from __future__ import annotations

import threading
import time

from drivers.openai.audio_pump import AudioPump


def test_put_returns_at_once_while_the_link_is_stalled_and_drops_oldest() -> None:
    release, writing = threading.Event(), threading.Event()
    sent: list[bytes] = []

    def stalled_send(pcm: bytes) -> None:
        writing.set()
        release.wait(5)
        sent.append(pcm)

    pump = AudioPump(stalled_send, max_frames=3)
    pump.start()
    try:
        pump.put(b"\x00")
        assert writing.wait(5)  # frame 0 is stuck in the socket write
        started = time.monotonic()
        for i in range(1, 10):
            pump.put(bytes([i]))
        assert time.monotonic() - started < 0.5  # nothing waited for the stalled socket
        release.set()
        assert pump.drain(5)
    finally:
        pump.close()
    # frame 0 was already being written; of the rest only the newest three survived
    assert sent == [b"\x00", b"\x07", b"\x08", b"\x09"]
    assert pump.dropped == 6


def test_drain_waits_for_every_queued_frame_in_order() -> None:
    sent: list[bytes] = []
    def slow_send(pcm: bytes) -> None:
        time.sleep(0.005)
        sent.append(pcm)

    pump = AudioPump(slow_send)
    pump.start()
    try:
        for i in range(20):
            pump.put(bytes([i]))
        assert pump.drain(5)
        assert sent == [bytes([i]) for i in range(20)]
    finally:
        pump.close()


def test_drain_gives_up_on_a_dead_link_and_drops_the_stale_audio() -> None:
    never = threading.Event()
    def dead_send(_pcm: bytes) -> None:
        never.wait(2)

    pump = AudioPump(dead_send)
    pump.start()
    try:
        pump.put(b"a")
        pump.put(b"b")
        assert not pump.drain(0.1)
        assert pump.dropped >= 1
    finally:
        never.set()
        pump.close()
    assert pump.join(0), "the pump thread outlived close()"


def test_a_failing_send_does_not_stop_the_pump() -> None:
    sent: list[bytes] = []

    def flaky(pcm: bytes) -> None:
        if pcm == b"bad":
            raise RuntimeError("boom")
        sent.append(pcm)

    pump = AudioPump(flaky)
    pump.start()
    try:
        for pcm in (b"a", b"bad", b"c"):
            pump.put(pcm)
        assert pump.drain(5)
    finally:
        pump.close()
    assert sent == [b"a", b"c"]
