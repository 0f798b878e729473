"""The earpiece's AVRCP play/pause key: real ``struct input_event`` records, read by the
real reader from a FIFO standing in for BlueZ's uinput node (no uinput here), through
the GPIO button's gesture logic."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from drivers.backoff import Backoff
from drivers.button_logic import ButtonEvent, ButtonEventKind, ButtonGestures, ButtonTimings
from drivers.evdev_keys import INPUT_EVENT, MediaKeyReader, find_avrcp_device, key_edges

EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
KEY_PLAYPAUSE, KEY_PLAYCD, KEY_PAUSECD, KEY_VOLUMEUP = 164, 200, 201, 115


def record(kind: int, code: int, value: int) -> bytes:
    return INPUT_EVENT.pack(1_700_000_000, 123_456, kind, code, value)


def key(code: int, value: int) -> bytes:
    """What the kernel delivers for one key change: MSC_SCAN, the key, SYN_REPORT."""
    return record(EV_MSC, 4, code) + record(EV_KEY, code, value) + record(EV_SYN, 0, 0)


def test_records_have_the_kernels_layout_and_only_media_keys_count() -> None:
    assert INPUT_EVENT.size == 24  # 64-bit: struct timeval (16) + u16 + u16 + s32
    data = (key(KEY_PLAYPAUSE, 1) + key(KEY_PLAYPAUSE, 2) + key(KEY_VOLUMEUP, 1)
            + key(KEY_PLAYPAUSE, 0) + key(KEY_PAUSECD, 1) + record(EV_KEY, KEY_PLAYCD, 0))
    assert key_edges(data + data[:10]) == [  # a torn record at the end waits for the rest
        (KEY_PLAYPAUSE, True), (KEY_PLAYPAUSE, False), (KEY_PAUSECD, True), (KEY_PLAYCD, False)]


def test_the_avrcp_device_is_found_by_bluezs_name(tmp_path: Path) -> None:
    listing = tmp_path / "devices"
    listing.write_text(
        'I: Bus=0019 Vendor=0000 Product=0001 Version=0000\nN: Name="Power Button"\n'
        "H: Handlers=kbd event0 \n\n"
        'I: Bus=0005 Vendor=0000 Product=0000 Version=0000\nN: Name="Jabra Talk 45 (AVRCP)"\n'
        "P: Phys=\nH: Handlers=kbd event7 \nB: EV=100007\n\n")
    assert find_avrcp_device(listing) == Path("/dev/input/event7")
    listing.write_text('N: Name="Power Button"\nH: Handlers=kbd event0\n')
    assert find_avrcp_device(listing) is None


class Gestures:
    def __init__(self) -> None:
        self.events: list[ButtonEventKind] = []
        self.cond = threading.Condition()

    def __call__(self, event: ButtonEvent) -> None:
        if event.kind in (ButtonEventKind.PRESSED, ButtonEventKind.RELEASED):
            return
        with self.cond:
            self.events.append(event.kind)
            self.cond.notify_all()

    def wait(self, count: int) -> list[ButtonEventKind]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.events) >= count, 5), self.events
            return list(self.events)


def test_taps_and_holds_from_a_fifo_fed_like_an_input_device(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="drivers.evdev_keys")
    node = tmp_path / "event7"
    os.mkfifo(node)
    writer = os.open(node, os.O_RDWR | os.O_NONBLOCK)  # the "kernel" side
    gestures = Gestures()
    logic = ButtonGestures(gestures, ButtonTimings(debounce_ms=0, double_tap_ms=200,
                                                   hold_ms=300, long_hold_ms=5000))
    reader = MediaKeyReader(logic.edge, device=node, backoff=Backoff(0.05, 0.1, jitter=0.0))
    reader.start()
    try:
        # a tap as AVRCP delivers it: press and release in one write
        os.write(writer, key(KEY_PLAYPAUSE, 1) + key(KEY_PLAYPAUSE, 0))
        assert gestures.wait(1) == [ButtonEventKind.TAP]
        # two taps in quick succession: a double tap
        os.write(writer, key(KEY_PLAYCD, 1) + key(KEY_PLAYCD, 0))
        os.write(writer, key(KEY_PAUSECD, 1) + key(KEY_PAUSECD, 0))
        assert gestures.wait(2)[1] == ButtonEventKind.DOUBLE_TAP
        # held (autorepeat records in between are ignored), then released
        os.write(writer, key(KEY_PLAYPAUSE, 1) + key(KEY_PLAYPAUSE, 2))
        assert gestures.wait(3)[2] == ButtonEventKind.HOLD_START
        os.write(writer, key(KEY_PLAYPAUSE, 0))
        assert gestures.wait(4)[3] == ButtonEventKind.HOLD_END
        # the earpiece goes (its node vanishes), comes back: keys work again
        node.unlink()  # first, so the reader cannot reopen (and block on) the old FIFO
        os.close(writer)
        os.mkfifo(node)
        writer = os.open(node, os.O_RDWR | os.O_NONBLOCK)
        os.write(writer, key(KEY_PLAYPAUSE, 1) + key(KEY_PLAYPAUSE, 0))
        assert gestures.wait(5)[4] == ButtonEventKind.TAP
    finally:
        reader.close()
        logic.close()
        os.close(writer)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("earpiece media keys: reading")
    assert sum("unavailable" in line for line in lines) == 1, lines  # once, not per retry


def test_the_earpiece_button_gives_the_gpio_buttons_gesture_names(tmp_path: Path) -> None:
    from drivers.earpiece import EarpieceButton, EarpieceButtonSettings

    node = tmp_path / "event3"
    os.mkfifo(node)
    writer = os.open(node, os.O_RDWR | os.O_NONBLOCK)
    got: list[str] = []
    cond = threading.Condition()

    def on_gesture(kind: str, at_ns: int) -> None:
        with cond:
            got.append(kind)
            cond.notify_all()

    button = EarpieceButton(on_gesture, EarpieceButtonSettings(
        hfp=False, avrcp=True, input_device=node, double_tap_ms=0))
    try:
        assert button.info() is None  # no bluealsa link asked for: nothing known
        os.write(writer, key(KEY_PLAYPAUSE, 1) + key(KEY_PLAYPAUSE, 0))
        with cond:
            assert cond.wait_for(lambda: "TAP" in got, 5), got
        # the names the Controller's ButtonPressed takes (ButtonEventKind members)
        assert got == ["PRESSED", "RELEASED", "TAP"]
    finally:
        button.close()
        os.close(writer)
