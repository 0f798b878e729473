"""The earpiece's button through the whole hub: bluealsa's RFCOMM socket (a stand-in on
a private dbus-daemon, reached as the system bus) -> the Controller -> and back."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drivers.local.skills.status import StatusSkill
from runtime.engine_factory import EngineMaker
from runtime.hub import Hub
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.drivers.bluealsa_standin import BlueAlsaStandIn, private_bus
from tests.e2e.hubtest import load, wait_for, write_config
from tests.fakes.openai_server import FakeOpenAIServer

BUTTON_ONLY = """
    triggers:
      always_listening: false
      wake_word: {enabled: false}
      button: {enabled: false}
      earpiece_button: {hfp: always, avrcp: never}
    conversation: {listen_timeout_s: 1.0, follow_up_s: 0}
"""


@contextmanager
def started(hub: Hub) -> Iterator[Hub]:
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def bluealsa(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlueAlsaStandIn]:
    with private_bus() as address, BlueAlsaStandIn(address) as standin:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)  # where dbus-fast looks
        yield standin


def test_the_earpiece_button_starts_a_turn_and_hears_when_it_is_over(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer, bluealsa: BlueAlsaStandIn,
) -> None:
    bluealsa.connect_headset("HFP-AG", battery=70, codec="mSBC")
    hub = Hub(load(write_config(tmp_path, fake_openai, BUTTON_ONLY)))
    with FifoFeeder(alsa_files.infile, bytes(16000 * 2 * 30), 16000), started(hub):
        assert hub.wait_for_state("idle", 15), hub.state
        wait_for(lambda: hub.snapshot()["earpiece"].get("button") is True, 10,
                 "the hub to hold the RFCOMM socket")
        headset = bluealsa.headset
        assert isinstance(headset, socket.socket)
        headset.settimeout(5)
        headset.send(b"AT+BVRA=1\r")
        assert headset.recv(512) == b"\r\nOK\r\n"
        assert hub.wait_for_state("listening", 5), hub.state
        # nobody speaks: the turn ends, and the headset is told recognition is off
        assert hub.wait_for_state("idle", 5), hub.state
        assert headset.recv(512) == b"\r\n+BVRA: 0\r\n"

        earpiece = hub.snapshot()["earpiece"]
        assert (earpiece["battery_percent"], earpiece["codec"], earpiece["codec_rate"],
                earpiece["transport"]) == (70, "mSBC", 16000, "HFP-AG")
        # the status skill (and the online model's status tool) says it
        assert isinstance(hub.parts.engine, EngineMaker)
        result = StatusSkill().run({}, hub.parts.engine.context.skill_context)
        assert "Earpiece battery at 70 percent." in result.speech
        assert result.data["earpiece_connected"] is True
