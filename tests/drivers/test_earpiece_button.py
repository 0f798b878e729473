"""The earpiece's own button over bluealsa's RFCOMM D-Bus interface, on a real bus.

A stand-in of bluealsa 4.0's D-Bus service (tests/drivers/bluealsa_standin.py) on a
private ``dbus-daemon``; the real client (drivers/bluealsa_dbus.py, dbus-fast) finds
the headset's RFCOMM object, opens it (a Unix fd passed over D-Bus), and answers the
AT commands the headset's button sends, byte for byte.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from drivers.backoff import Backoff
from drivers.bluealsa_dbus import BlueAlsaLink
from drivers.hfp_at import Press
from tests.drivers.bluealsa_standin import BlueAlsaStandIn, private_bus
from tests.e2e.hubtest import wait_for


class Presses:
    def __init__(self) -> None:
        self.got: list[Press] = []
        self.event = threading.Condition()

    def __call__(self, press: Press, at_ns: int) -> None:
        assert at_ns > 0
        with self.event:
            self.got.append(press)
            self.event.notify_all()

    def wait(self, count: int, timeout: float = 5.0) -> list[Press]:
        with self.event:
            assert self.event.wait_for(lambda: len(self.got) >= count, timeout), self.got
            return list(self.got)


@pytest.fixture
def bus_address() -> Iterator[str]:
    with private_bus() as address:
        yield address


def exchange(headset: socket.socket, sent: bytes) -> bytes:
    headset.settimeout(5)
    headset.send(sent)
    return headset.recv(512)


def test_button_presses_are_answered_as_an_audio_gateway_must(bus_address: str) -> None:
    presses = Presses()
    with BlueAlsaStandIn(bus_address) as bluealsa:
        link = BlueAlsaLink(presses, bus_address=bus_address)
        link.start()
        try:
            assert link.started.wait(5)
            assert not link.snapshot().connected
            bluealsa.connect_headset("HFP-AG", battery=70, codec="mSBC")
            wait_for(lambda: link.snapshot().button, 5, "the RFCOMM socket to be opened")
            headset = bluealsa.headset
            assert headset is not None

            # HFP: the button asks for voice recognition; the gateway says OK ...
            assert exchange(headset, b"AT+BVRA=1\r") == b"\r\nOK\r\n"
            assert presses.wait(1) == [Press.VOICE_RECOGNITION_ON]
            # ... and, when the conversation is over, that recognition is off again
            link.conversation_over()
            assert headset.recv(512) == b"\r\n+BVRA: 0\r\n"
            link.conversation_over()  # nothing more is due: no second +BVRA
            # pressed while recognition is on: AT+BVRA=0, also a press
            assert exchange(headset, b"AT+BVRA=1\r") == b"\r\nOK\r\n"
            assert exchange(headset, b"AT+BVRA=0\r") == b"\r\nOK\r\n"
            # HSP: the key press
            assert exchange(headset, b"AT+CKPD=200\r") == b"\r\nOK\r\n"
            assert presses.wait(4)[1:] == [Press.VOICE_RECOGNITION_ON,
                                            Press.VOICE_RECOGNITION_OFF, Press.KEY]
            # a command bluealsa answers itself gets no second answer from us (the
            # next reply on the socket is the one to the command after it) ...
            headset.send(b"AT+VGS=10\r")
            assert exchange(headset, b"AT+CKPD=200\r") == b"\r\nOK\r\n"
            # ... one nobody knows gets ERROR, so the headset does not wait for a reply
            assert exchange(headset, b"AT+CLIP=1\r") == b"\r\nERROR\r\n"
            assert len(presses.wait(5)) == 5

            # battery and codec, as bluealsa reports them
            info = link.snapshot()
            assert (info.connected, info.transport, info.battery_percent, info.codec,
                    info.sample_rate) == (True, "HFP-AG", 70, "mSBC", 16000)
            bluealsa.set_battery(40)
            wait_for(lambda: link.snapshot().battery_percent == 40, 5, "the new battery level")

            # the earpiece goes and comes back: the button works again
            bluealsa.disconnect_headset()
            wait_for(lambda: not link.snapshot().connected, 5, "the link to go")
            assert not link.snapshot().button
            bluealsa.connect_headset("HSP-AG", battery=255, codec="CVSD")
            wait_for(lambda: bluealsa.opens == 2 and link.snapshot().button, 5, "a new Open")

            def new_transport() -> tuple[object, ...]:
                info = link.snapshot()
                return info.battery_percent, info.codec, info.sample_rate

            # the PCM's properties come on their own signal, maybe after the button's Open
            wait_for(lambda: new_transport() == (None, "CVSD", 8000), 5, "the new transport")
            headset = bluealsa.headset
            assert headset is not None
            assert exchange(headset, b"AT+CKPD=200\r") == b"\r\nOK\r\n"
            assert presses.wait(6)[-1] == Press.KEY
        finally:
            link.close()


def test_bluealsa_starting_after_the_hub_is_found(bus_address: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="drivers.bluealsa_dbus")
    presses = Presses()
    link = BlueAlsaLink(presses, bus_address=bus_address,
                        backoff=Backoff(0.05, 0.2, jitter=0.0))
    link.start()
    try:
        assert link.started.wait(5)
        wait_for(lambda: "bluealsa is not reachable" in caplog.text, 5, "the first failure")
        with BlueAlsaStandIn(bus_address) as bluealsa:
            bluealsa.connect_headset()
            wait_for(lambda: link.snapshot().button, 10, "the RFCOMM socket")
            assert bluealsa.headset is not None
            assert exchange(bluealsa.headset, b"AT+BVRA=1\r") == b"\r\nOK\r\n"
            assert presses.wait(1) == [Press.VOICE_RECOGNITION_ON]
            # many retries while bluealsa was away, one line for it (and one for its return)
            assert caplog.text.count("bluealsa is not reachable") == 1
            assert caplog.text.count("bluealsa reachable on D-Bus again") == 1
    finally:
        link.close()
