"""sd_notify over a real datagram socket, reload of a good config, `run --until-idle`."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import pytest

from actors.supervisor import SupervisionPolicy
from actors.wiring import LISTENER
from runtime.cli import build_parser
from runtime.hub import Hub, HubControl
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.e2e.hubtest import (
    RATE,
    load,
    loud_ms,
    played,
    running_hub,
    speech,
    write_config,
)
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, silence

CONFIG = """
    triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
    conversation: {follow_up_s: 0}
"""


def test_sd_notify_ready_status_watchdog_and_stopping(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # a ping every 0.2 s
    hub = Hub(load(write_config(tmp_path, fake_openai, CONFIG)))
    control = HubControl()
    runner = threading.Thread(target=hub.run, args=(control,), name="hub-run")
    received: list[str] = []
    try:
        with FifoFeeder(alsa_files.infile, bytes(RATE * 2 * 10), RATE), \
                running_hub_thread(runner, control):
            while not seen_all(received):
                received.append(notify.recv(512).decode())
    finally:
        while True:
            try:
                notify.settimeout(0.5)
                received.append(notify.recv(512).decode())
            except TimeoutError:
                break
        notify.close()
    ready = next(i for i, m in enumerate(received) if m.startswith("READY=1"))
    assert any(m.startswith("STATUS=idle (provider ready)") for m in received)
    assert "WATCHDOG=1" in received[ready:]
    assert received[-1] == "STOPPING=1"


def seen_all(received: list[str]) -> bool:
    """READY, then the idle status, then a watchdog ping."""
    ready = [i for i, m in enumerate(received) if m.startswith("READY=1")]
    idle = [i for i, m in enumerate(received) if m.startswith("STATUS=idle (provider ready)")]
    return bool(ready and idle and "WATCHDOG=1" in received[max(ready[0], idle[0]):])


class running_hub_thread:  # noqa: N801 - a context manager
    def __init__(self, thread: threading.Thread, control: HubControl) -> None:
        self.thread, self.control = thread, control

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *exc: object) -> None:
        self.control.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


def test_reload_with_a_changed_config_restarts_the_graph_on_it(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="ok", audio=tone_pcm(400)))
    path = write_config(tmp_path, fake_openai, CONFIG)
    hub = Hub(load(path), config_path=path)
    pcm = concat(silence(3000), speech("Are you still there?"), silence(8000)).data
    with running_hub(hub, alsa_files, pcm):
        path.write_text(path.read_text().replace("follow_up_s: 0", "follow_up_s: 2.5"))
        assert hub.reload()
        assert hub.config.conversation.follow_up_s == 2.5
        assert hub.wait_for_state("idle", 5)
        assert hub.wait_for_state("speaking", 10), "no turn after the reload"
        assert hub.wait_for_state("listening", 5), "the new follow-up window is not used"
    assert any("config reloaded from" in r.getMessage() for r in caplog.records)
    assert fake_openai.realtime_connections == 2


def test_run_until_idle_answers_an_input_file_and_exits_0(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.add_reply(Reply(text="ok", audio=tone_pcm(600)))
    path = write_config(tmp_path, fake_openai, CONFIG)
    question = tmp_path / "question.wav"
    question.write_bytes(concat(silence(2500), speech("What is the time?")).to_wav())
    args = build_parser().parse_args(
        ["run", "--config", str(path), "--input", str(question), "--until-idle"])
    assert args.handler(args) == 0
    assert 500 <= loud_ms(played(alsa_files)) <= 700
    assert fake_openai.types("in").count("input_audio_buffer.commit") == 1


def test_an_actor_that_keeps_dying_makes_the_hub_exit_non_zero(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub(load(write_config(tmp_path, fake_openai, CONFIG)),
              policy=SupervisionPolicy(max_failures=3, window_s=30, initial_delay_s=0.05))
    control = HubControl()
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(hub.run(control)), name="hub-run")
    with FifoFeeder(alsa_files.infile, bytes(RATE * 2 * 20), RATE):
        runner.start()
        assert hub.wait_for_state("idle", 10)
        killed: list[object] = []
        deadline = time.monotonic() + 20
        while hub.fatal_reason is None and time.monotonic() < deadline:
            wiring = hub.wiring
            listener = wiring.peers.get(LISTENER) if wiring is not None else None
            if listener is not None and listener not in killed and listener.is_alive():
                listener.tell("poison")  # raises inside the actor
                killed.append(listener)
            time.sleep(0.02)
        runner.join(10)
        control.stop.set()
    assert codes == [1]
    assert "3 actor failures within 30 s" in (hub.fatal_reason or "")
