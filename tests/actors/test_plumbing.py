"""DeadlineTimer, AudioMailbox, Peers and the sd_notify client."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pykka
import pytest

from actors.mailbox import AudioMailbox
from actors.timer import DeadlineTimer
from actors.wiring import Peers
from runtime.sdnotify import SystemdNotifier
from speech_api import AudioChunk


def test_deadline_fires_once_with_the_latest_token() -> None:
    fired: list[int] = []
    done = threading.Event()

    def fire(token: int) -> None:
        fired.append(token)
        done.set()

    timer = DeadlineTimer(fire)
    try:
        timer.arm(5.0, 1)
        timer.arm(0.05, 2)  # re-arming replaces the earlier deadline
        assert done.wait(2.0)
        done.clear()
        assert not done.wait(0.2)
        assert fired == [2]
        timer.arm(0.05, 3)
        timer.disarm()
        assert not done.wait(0.2)
    finally:
        timer.close()
    assert fired == [2]


def chunk(i: int) -> AudioChunk:
    return AudioChunk.pcm(bytes([i, 0]) * 10, 16000)


def test_mailbox_nudges_only_when_empty_and_drops_oldest() -> None:
    box = AudioMailbox(max_chunks=3)
    assert box.put(chunk(1)) is True
    assert box.put(chunk(2)) is False
    box.put(chunk(3))
    box.put(chunk(4))
    assert box.dropped == 1
    assert [c.data[0] for c in box.drain()] == [2, 3, 4]
    assert box.put(chunk(5)) is True
    with pytest.raises(ValueError, match="max_chunks"):
        AudioMailbox(0)


def test_mailbox_batch_nudges_once_per_batch() -> None:
    box = AudioMailbox(max_chunks=10)
    box.set_batch(3)
    assert [box.put(chunk(i)) for i in range(7)] == [False, False, True] + [False] * 4
    assert len(box.drain()) == 7
    assert [box.put(chunk(i)) for i in range(3)] == [False, False, True]
    box.set_batch(1)  # the consumer drains what waits itself; then a nudge per empty box
    box.drain()
    assert [box.put(chunk(i)) for i in range(2)] == [True, False]
    box.drain()
    box.set_batch(3)
    assert [box.put(chunk(i)) for i in range(2)] == [False, False]
    box.set_batch(1)  # lowered with chunks waiting and no nudge out: the next put nudges
    assert [box.put(chunk(i)) for i in range(2)] == [True, False]
    with pytest.raises(ValueError, match="batch"):
        box.set_batch(0)


class Echo(pykka.ThreadingActor):
    def __init__(self, got: list[object]) -> None:
        super().__init__()
        self.got = got

    def on_receive(self, message: object) -> None:
        self.got.append(message)


def test_peers_deliver_by_role_and_drop_for_dead_actors() -> None:
    got: list[object] = []
    peers = Peers()
    assert peers.tell("x", "lost") is False
    ref = Echo.start(got)
    peers.set("x", ref)
    assert peers.tell("x", "hello") is True
    ref.stop()
    assert peers.tell("x", "after death") is False
    assert got == ["hello"]


def test_sdnotify_sends_datagrams_to_a_real_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(2)
    notifier = SystemdNotifier(path)
    try:
        assert notifier.ready("audio open")
        assert server.recv(1024) == b"READY=1\nSTATUS=audio open"
        assert notifier.status("state: listening\n(tap)")
        assert server.recv(1024) == b"STATUS=state: listening (tap)"
        assert notifier.status("state: listening (tap)")  # unchanged: not resent
        assert notifier.watchdog()
        assert server.recv(1024) == b"WATCHDOG=1"
        assert notifier.stopping()
        assert server.recv(1024) == b"STOPPING=1"
    finally:
        notifier.close()
        server.close()


def test_sdnotify_abstract_socket_and_disabled() -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0maigic-test-notify")
    server.settimeout(2)
    notifier = SystemdNotifier("@maigic-test-notify")
    try:
        assert notifier.watchdog()
        assert server.recv(64) == b"WATCHDOG=1"
    finally:
        notifier.close()
        server.close()
    assert SystemdNotifier("").ready() is False


def test_sdnotify_reports_a_missing_socket_without_raising(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "absent"))
    assert notifier.ready() is False
    notifier.close()


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert SystemdNotifier("").watchdog_interval_s() == 5.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert SystemdNotifier("").watchdog_interval_s() is None
