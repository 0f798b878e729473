"""The earpiece's own button and what it says about itself, in the button's vocabulary.

Two sources, both optional (see ``triggers.earpiece_button``):

- HFP/HSP (bluealsa's RFCOMM socket, :mod:`drivers.bluealsa_dbus`): each
  ``AT+BVRA`` / ``AT+CKPD=200`` is one TAP (the headset decides what a press is;
  many send ``AT+BVRA=1`` only for a long press and keep the short one for calls).
  The same link reports the battery and the codec.
- AVRCP (BlueZ's input device, :mod:`drivers.evdev_keys`): play/pause key press
  and release go through the GPIO button's gesture logic, so tap, double tap and
  hold mean what they mean for the GPIO button.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.bluealsa_dbus import BlueAlsaLink, EarpieceInfo
from drivers.button_logic import ButtonEvent, ButtonEventKind, ButtonGestures, ButtonTimings
from drivers.evdev_keys import MediaKeyReader
from drivers.hfp_at import Press

log = logging.getLogger(__name__)

OnGesture = Callable[[str, int], None]  # (ButtonEventKind name, time.monotonic_ns())


@dataclass(frozen=True, slots=True)
class EarpieceButtonSettings:
    hfp: bool = True  # follow bluealsa on D-Bus (button over RFCOMM, battery, codec)
    hfp_button: bool = True  # take the RFCOMM socket for the button
    avrcp: bool = True  # read the AVRCP media keys
    input_device: Path | None = None  # None: BlueZ's "(AVRCP)" device, found by name
    hold_ms: int = 600
    double_tap_ms: int = 350
    bus_address: str | None = None  # None: the system bus (tests: a private one)


class EarpieceButton:
    """Runs the configured sources; :meth:`close` stops them (safe to repeat)."""

    def __init__(self, on_gesture: OnGesture, settings: EarpieceButtonSettings) -> None:
        self.on_gesture = on_gesture
        self.link: BlueAlsaLink | None = None
        self.keys: MediaKeyReader | None = None
        self.gestures: ButtonGestures | None = None
        if settings.hfp:
            self.link = BlueAlsaLink(self._hfp_press, bus_address=settings.bus_address,
                                     button=settings.hfp_button)
            self.link.start()
        if settings.avrcp:
            self.gestures = ButtonGestures(self._gesture, ButtonTimings(
                debounce_ms=0, double_tap_ms=settings.double_tap_ms, hold_ms=settings.hold_ms,
                long_hold_ms=max(3000, settings.hold_ms + 1)), name="earpiece-keys")
            self.keys = MediaKeyReader(self.gestures.edge, device=settings.input_device).start()

    def info(self) -> EarpieceInfo | None:
        return self.link.snapshot() if self.link is not None else None

    def conversation_over(self) -> None:
        if self.link is not None:
            self.link.conversation_over()

    def close(self) -> None:
        for part in (self.keys, self.gestures, self.link):
            if part is not None:
                part.close()
        self.keys = self.gestures = self.link = None

    def _hfp_press(self, press: Press, at_ns: int) -> None:
        self.on_gesture(ButtonEventKind.TAP.name, at_ns)

    def _gesture(self, event: ButtonEvent) -> None:
        if event.kind not in (ButtonEventKind.PRESSED, ButtonEventKind.RELEASED):
            log.info("earpiece key: %s", event.kind.value)
        self.on_gesture(event.kind.name, event.at_ns)
