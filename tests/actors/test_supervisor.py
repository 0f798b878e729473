"""Supervision: a dying actor is restarted and rewired; repeated deaths are fatal."""

from __future__ import annotations

import threading
from typing import Any

import pykka

from actors.base import HubActor
from actors.messages import ActorRestarted, Ping
from actors.supervisor import SupervisionPolicy, Supervisor
from actors.wiring import CONTROLLER, SUPERVISOR, HubHooks, Wiring


class Worker(HubActor):
    role = "worker"

    def __init__(self, wiring: Wiring, released: list[str]) -> None:
        super().__init__(wiring)
        self.released = released

    def receive(self, message: object) -> object:
        if message == "boom":
            raise RuntimeError("boom")
        if message == "hello":
            return "hi"
        return self.unexpected(message)

    def release(self) -> None:
        self.released.append("released")


class Recorder(pykka.ThreadingActor):
    def __init__(self, got: list[object], event: threading.Event) -> None:
        super().__init__()
        self.got, self.event = got, event

    def on_receive(self, message: object) -> None:
        self.got.append(message)
        self.event.set()


def graph(policy: SupervisionPolicy, fatal: list[str]) -> tuple[Wiring, list[str]]:
    wiring = Wiring(hooks=HubHooks(fatal=fatal.append))
    released: list[str] = []

    def start_worker() -> pykka.ActorRef[Any]:
        return Worker.start(wiring, released)

    wiring.peers.set("worker", start_worker())
    wiring.peers.set(SUPERVISOR, Supervisor.start(wiring, {"worker": start_worker}, policy))
    return wiring, released


def test_a_failed_actor_is_released_restarted_rewired_and_reported() -> None:
    fatal: list[str] = []
    wiring, released = graph(SupervisionPolicy(initial_delay_s=0.01), fatal)
    restarted = threading.Event()
    got: list[object] = []
    wiring.peers.set(CONTROLLER, Recorder.start(got, restarted))
    first = wiring.peers.get("worker")
    assert first is not None
    first.tell("boom")
    assert restarted.wait(3)
    second = wiring.peers.get("worker")
    assert second is not None and second is not first
    assert second.ask("hello", timeout=2) == "hi"
    assert second.ask(Ping(), timeout=2) is True
    assert released == ["released"]
    assert got == [ActorRestarted("worker")]
    assert fatal == []
    pykka.ActorRegistry.stop_all(timeout=5)


def test_unknown_messages_kill_the_actor_with_a_clear_error() -> None:
    fatal: list[str] = []
    wiring, _ = graph(SupervisionPolicy(initial_delay_s=0.01), fatal)
    ref = wiring.peers.get("worker")
    assert ref is not None
    try:
        ref.ask(object(), timeout=2)
    except TypeError as exc:
        assert "worker actor cannot handle object" in str(exc)
    else:
        raise AssertionError("expected TypeError")
    pykka.ActorRegistry.stop_all(timeout=5)


def test_too_many_failures_in_the_window_are_fatal() -> None:
    fatal: list[str] = []
    wiring, _ = graph(SupervisionPolicy(max_failures=3, window_s=30, initial_delay_s=0.01), fatal)
    pause = threading.Event()
    for _ in range(3):
        # the next worker to poison (a restart poisoned before it answered the supervisor's
        # ping is a failed restart: it counts too, and may be the third failure)
        ref = None
        for _ in range(500):
            ref = wiring.peers.get("worker")
            if fatal or (ref is not None and ref.is_alive()):
                break
            pause.wait(0.02)
        if fatal:
            break
        assert ref is not None, "the worker was not restarted"
        ref.tell("boom")
        for _ in range(500):
            if wiring.peers.get("worker") is not ref:
                break
            pause.wait(0.02)
    for _ in range(500):
        if fatal:
            break
        pause.wait(0.02)
    assert len(fatal) == 1
    assert "3 actor failures within 30 s" in fatal[0]
    assert "worker" in fatal[0]
    pykka.ActorRegistry.stop_all(timeout=5)
