"""GPIO through gpiozero: the push-to-talk button and the status LED.

- :class:`ButtonDriver`: a gpiozero ``Button`` with gpiozero's debounce off; raw
  edges go to :class:`drivers.button_logic.ButtonGestures` (our debounce, taps, holds).
- :class:`StatusLed`: a ``PWMLED`` showing a :class:`LedPattern`, switchable from any
  thread.
- :func:`gpio_available`: False (said once in the log) when there is no pin
  factory, e.g. not a Pi; the hub then runs without button and LED.
- :class:`KeyboardButton`: the same gestures from a terminal, for development.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator
from enum import Enum
from typing import Any

import gpiozero.exc as gpiozero_exc

from drivers.button_logic import (
    ButtonEvent,
    ButtonEventKind,
    ButtonGestures,
    ButtonTimings,
    OnButtonEvent,
)
from drivers.keyboard_button import KeyboardButton

__all__ = [
    "ButtonDriver",
    "ButtonEvent",
    "ButtonEventKind",
    "ButtonTimings",
    "GpioUnavailableError",
    "KeyboardButton",
    "LedPattern",
    "StatusLed",
    "gpio_available",
]

log = logging.getLogger(__name__)

_said_unavailable = threading.Event()


class GpioUnavailableError(RuntimeError):
    """No usable GPIO (no pin factory, not a Pi, pin busy)."""


def gpio_available() -> bool:
    """Whether gpiozero can drive pins here; logs the reason only the first time it is not."""
    try:
        from gpiozero import Device

        with _quiet_fallbacks():
            Device.ensure_pin_factory()
    except Exception as exc:  # noqa: BLE001 - gpiozero raises many kinds (BadPinFactory, ImportError...)
        if not _said_unavailable.is_set():
            _said_unavailable.set()
            log.warning("no GPIO available (%s); running without button and status LED",
                        exc or type(exc).__name__)
        return False
    return True


@contextlib.contextmanager
def _quiet_fallbacks() -> Iterator[None]:
    """gpiozero warns once per pin library it tries and fails: noise, we log one line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gpiozero_exc.PinFactoryFallback)
        yield


def _gpio_error(what: str, pin: int | str, exc: Exception) -> GpioUnavailableError:
    reason = str(exc) or type(exc).__name__
    return GpioUnavailableError(f"cannot use GPIO {pin} for the {what}: {reason}")


class ButtonDriver:
    """A momentary button on ``pin`` reporting :class:`ButtonEvent` s to ``on_event``.

    ``active_low=True`` is a button between the pin and ground with the internal
    pull-up (the usual wiring). Events arrive on the gestures thread.
    """

    def __init__(
        self,
        pin: int | str,
        *,
        on_event: OnButtonEvent,
        active_low: bool = True,
        debounce_ms: int = 30,
        double_tap_ms: int = 300,
        hold_ms: int = 500,
        long_hold_ms: int = 3000,
        pin_factory: Any = None,
    ) -> None:
        timings = ButtonTimings(debounce_ms, double_tap_ms, hold_ms, long_hold_ms)
        try:
            from gpiozero import Button

            with _quiet_fallbacks():
                self._button = Button(pin, pull_up=active_low, bounce_time=None,
                                      pin_factory=pin_factory)
        except Exception as exc:
            raise _gpio_error("button", pin, exc) from exc
        self._gestures = ButtonGestures(on_event, timings,
                                        initially_pressed=bool(self._button.is_pressed),
                                        name=f"gpio{pin}")
        self._button.when_pressed = self._pressed
        self._button.when_released = self._released

    def _pressed(self) -> None:
        self._gestures.feed(True)

    def _released(self) -> None:
        self._gestures.feed(False)

    def close(self) -> None:
        self._button.when_pressed = None
        self._button.when_released = None
        self._button.close()
        self._gestures.close()

    def __enter__(self) -> ButtonDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LedPattern(Enum):
    OFF = "off"
    ON = "on"
    SLOW_PULSE = "slow_pulse"  # a short flash every 2 s: idle, alive
    FAST_BLINK = "fast_blink"  # 5 Hz: error or pairing
    BREATHE = "breathe"  # smooth fade in and out: listening / thinking
    SLOW_BLINK = "slow_blink"  # 1 s on, 1 s off: waiting for the earpiece (no audio device)


class StatusLed:
    """A PWM LED showing one :class:`LedPattern` at a time; :meth:`set_pattern` from any thread."""

    def __init__(self, pin: int | str, *, pin_factory: Any = None) -> None:
        try:
            from gpiozero import PWMLED

            with _quiet_fallbacks():
                self._led = PWMLED(pin, pin_factory=pin_factory)
        except Exception as exc:
            raise _gpio_error("status LED", pin, exc) from exc
        self._lock = threading.Lock()
        self._pattern = LedPattern.OFF

    @property
    def pattern(self) -> LedPattern:
        with self._lock:
            return self._pattern

    def set_pattern(self, pattern: LedPattern) -> None:
        if not isinstance(pattern, LedPattern):
            raise ValueError(f"unknown LED pattern {pattern!r}; expected a LedPattern")
        with self._lock:
            if pattern is self._pattern:
                return  # do not restart a blink from its beginning
            self._pattern = pattern
            led = self._led
            if pattern is LedPattern.OFF:
                led.off()
            elif pattern is LedPattern.ON:
                led.on()
            elif pattern is LedPattern.SLOW_PULSE:
                led.blink(on_time=0.15, off_time=1.85, fade_in_time=0.05, fade_out_time=0.1)
            elif pattern is LedPattern.FAST_BLINK:
                led.blink(on_time=0.1, off_time=0.1)
            elif pattern is LedPattern.SLOW_BLINK:
                led.blink(on_time=1.0, off_time=1.0)
            else:
                led.pulse(fade_in_time=1.0, fade_out_time=1.0)

    def close(self) -> None:
        with self._lock:
            self._led.close()  # stops and joins gpiozero's blink thread

    def __enter__(self) -> StatusLed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

