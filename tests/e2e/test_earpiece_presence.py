"""The earpiece comes and goes: the hub is ready without it, waits, and carries on.

Real alsa-lib PCMs that fail to open until the test makes them valid (see
tests/e2e/earpiece_devices.py), the real websocket client against the fake
OpenAI server, and a real sd_notify datagram socket the test binds.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.hub import Hub, HubControl
from runtime.sdnotify import SystemdNotifier
from tests.alsa.alsa_harness import use_alsa_files
from tests.e2e.earpiece_devices import LiveMic, Speaker
from tests.e2e.hubtest import load, speech, wait_for, write_config
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, silence

EARPIECE = """
    audio:
      playback: {device: earplay}
    triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
    conversation: {follow_up_s: 0}
    feedback: {earcons: true, led: false}
"""


class NotifySocket:
    """A bound AF_UNIX datagram socket, as systemd's NOTIFY_SOCKET is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[str] = []

    def wait_for(self, predicate_text: str, timeout: float) -> str | None:
        """The first datagram (from now on, or already received) containing the text."""
        for message in self.messages:
            if predicate_text in message:
                return message
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                return None
            self.messages.append(message)
            if predicate_text in message:
                return message
        return None

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()


def test_ready_without_audio_then_the_earpiece_comes_goes_mid_answer_and_comes_back(
    tmp_path: Path, fake_openai: FakeOpenAIServer, notify: NotifySocket,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="drivers.alsa_pcm")

    def retries() -> int:
        return sum(1 for r in caplog.records
                   if r.getMessage().startswith("still waiting for playback device earplay"))

    away = tmp_path / "earpiece"
    away.mkdir()
    mic, speaker = LiveMic(away / "mic.fifo"), Speaker(away / "speaker.fifo")
    use_alsa_files(monkeypatch, mic.path, speaker.path)
    monkeypatch.delenv(Speaker.ENV, raising=False)
    fake_openai.script.add_reply(Reply(text="long", audio=tone_pcm(8000), pace_s=0.05))
    fake_openai.script.add_reply(Reply(text="It is noon.", ms_per_char=100))  # 1.1 s of tone
    hub = Hub(load(write_config(tmp_path, fake_openai, EARPIECE)),
              notifier=SystemdNotifier(str(notify.path)))
    control = HubControl()
    started = time.monotonic()
    runner = threading.Thread(target=hub.run, args=(control,), name="hub-run")
    runner.start()
    try:
        # 1. no capture, no playback device: READY=1 anyway, within 2 s, and a visible wait
        ready = notify.wait_for("READY=1", 2.0)
        assert ready is not None, f"no READY=1 within 2 s; got {notify.messages}"
        ready_s = time.monotonic() - started
        assert notify.wait_for("STATUS=waiting for the earpiece", 5), notify.messages
        wait_for(lambda: hub.snapshot()["earpiece"]["audio"].startswith(
            "waiting for the earpiece"), 5, "the waiting state in the status")
        assert not hub.snapshot()["earpiece"]["connected"]

        # 2. the earpiece connects: capture and playback open, a whole turn works
        speaker.appear()
        mic.appear()
        wait_for(lambda: hub.snapshot()["earpiece"]["connected"], 15, "the earpiece's audio")
        assert hub.wait_for_state("idle", 10), hub.state
        assert notify.wait_for("STATUS=idle", 5), notify.messages
        mic.say(concat(speech("Tell me a long story."), silence(300)).data)
        assert hub.wait_for_state("speaking", 20), f"no answer; state {hub.state}"
        wait_for(lambda: speaker.loud_ms(0) >= 500, 10, "the answer in the earpiece")

        # 3. it vanishes mid-answer: the turn ends, the provider is told, no restart
        speaker.vanish()
        assert hub.wait_for_state("idle", 10), f"the turn did not end; state {hub.state}"
        wait_for(lambda: "response.cancel" in fake_openai.types("in")
                 or "conversation.item.truncate" in fake_openai.types("in"), 5,
                 "the provider being told")
        wait_for(lambda: not hub.snapshot()["earpiece"]["connected"], 5, "the waiting state")
        assert notify.wait_for("STATUS=waiting for the earpiece (playback earplay", 5)
        # the outage lasts several retries (each only at DEBUG)
        wait_for(lambda: retries() >= 3, 15, "three retries to open the playback device")

        # 4. it comes back: "connected" earcon, and the next turn works
        speaker.appear()
        wait_for(lambda: hub.snapshot()["earpiece"]["connected"], 15, "the earpiece again")
        wait_for(lambda: caplog.text.count("earcon CONNECTED") == 2, 5, "the connected earcon")
        assert hub.wait_for_state("idle", 10)
        mic.say(concat(speech("What time is it?"), silence(300)).data)
        assert hub.wait_for_state("speaking", 20), f"no second answer; state {hub.state}"
        assert hub.wait_for_state("idle", 10)
        wait_for(lambda: speaker.loud_ms(1) >= 900, 10, "the second answer in the earpiece")
    finally:
        control.stop.set()
        runner.join(10)
        mic.close()
        speaker.close()
    assert not runner.is_alive(), "the hub did not stop"
    print(f"READY=1 {ready_s * 1000:.0f} ms after run() with no audio device")
    # one line per change of the earpiece (hub), not per retry; no actor restarted
    hub_lines = [r.getMessage() for r in caplog.records if r.name == "runtime.hub"
                 and ("earpiece" in r.getMessage())]
    assert [line.split(" (")[0].split(":")[0] for line in hub_lines] == [
        "waiting for the earpiece", "earpiece connected",
        "waiting for the earpiece", "earpiece connected"], hub_lines
    driver_lines = [r.getMessage() for r in caplog.records if r.name.startswith("drivers.alsa")
                    and r.levelno >= logging.INFO and "earplay" in r.getMessage()]
    assert len(driver_lines) == 4, driver_lines  # waiting, open again, lost, open again
    assert "restarted" not in caplog.text and "actor died" not in caplog.text
    assert "answer took too long" not in caplog.text
