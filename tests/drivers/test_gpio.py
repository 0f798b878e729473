"""Button gestures and LED patterns through real gpiozero with its MockFactory."""

from __future__ import annotations

import io
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from drivers.button_logic import ButtonTimings
from drivers.gpio import (
    ButtonDriver,
    ButtonEvent,
    ButtonEventKind,
    GpioUnavailableError,
    KeyboardButton,
    LedPattern,
    StatusLed,
    gpio_available,
)
from tests.waiting import wait_until

K = ButtonEventKind
PIN = 17
FAST_TIMINGS = ButtonTimings(debounce_ms=40, double_tap_ms=250, hold_ms=400, long_hold_ms=900)
# For taps: the test releases as soon as it has seen PRESSED and presses again as soon as it has
# seen RELEASED; a loaded machine can stretch those steps by a few hundred ms, so the windows a
# tap must fit in are made far longer than any such stall.
TAP_TIMINGS = ButtonTimings(debounce_ms=40, double_tap_ms=800, hold_ms=2000, long_hold_ms=4000)


def fast_button(on_event: Callable[[ButtonEvent], None], active_low: bool = True,
                timings: ButtonTimings = FAST_TIMINGS) -> ButtonDriver:
    t = timings
    return ButtonDriver(PIN, on_event=on_event, active_low=active_low, debounce_ms=t.debounce_ms,
                        double_tap_ms=t.double_tap_ms, hold_ms=t.hold_ms,
                        long_hold_ms=t.long_hold_ms)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    previous = Device.pin_factory
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.close()
        Device.pin_factory = previous


class Recorder:
    def __init__(self) -> None:
        self.events: queue.Queue[ButtonEvent] = queue.Queue()

    def __call__(self, event: ButtonEvent) -> None:
        self.events.put(event)

    def take(self, count: int, timeout: float = 3.0) -> list[ButtonEventKind]:
        return [self.events.get(timeout=timeout).kind for _ in range(count)]

    def quiet_for(self, seconds: float) -> bool:
        try:
            extra = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected event {extra.kind}")


@pytest.fixture
def button(factory: MockFactory) -> Iterator[tuple[ButtonDriver, Recorder]]:
    rec = Recorder()
    driver = fast_button(rec)
    try:
        yield driver, rec
    finally:
        driver.close()


@pytest.fixture
def tap_button(factory: MockFactory) -> Iterator[tuple[ButtonDriver, Recorder]]:
    rec = Recorder()
    driver = fast_button(rec, timings=TAP_TIMINGS)
    try:
        yield driver, rec
    finally:
        driver.close()


def press(factory: MockFactory) -> None:
    factory.pin(PIN).drive_low()  # active-low wiring: pressed pulls the pin to ground


def release(factory: MockFactory) -> None:
    factory.pin(PIN).drive_high()


def test_tap(tap_button: tuple[ButtonDriver, Recorder], factory: MockFactory) -> None:
    _driver, rec = tap_button
    press(factory)
    assert rec.take(1) == [K.PRESSED]  # held past the debounce
    release(factory)
    assert rec.take(2) == [K.RELEASED, K.TAP]
    assert rec.quiet_for(0.4)


def test_bounces_count_as_one_press_and_one_release(
    tap_button: tuple[ButtonDriver, Recorder], factory: MockFactory
) -> None:
    _driver, rec = tap_button
    pin = factory.pin(PIN)
    for _ in range(5):  # contact bounce: 5 quick make/break cycles, then closed
        pin.drive_low()
        pin.drive_high()
    pin.drive_low()
    assert rec.take(1) == [K.PRESSED]
    for _ in range(5):
        pin.drive_high()
        pin.drive_low()
    pin.drive_high()
    assert rec.take(2) == [K.RELEASED, K.TAP]
    assert rec.quiet_for(0.4)


def test_a_glitch_shorter_than_debounce_is_ignored(factory: MockFactory) -> None:
    rec = Recorder()
    # A debounce far longer than the two statements between the edges can take, even when the
    # test thread is descheduled between them.
    with fast_button(rec, timings=ButtonTimings(debounce_ms=300, hold_ms=400, long_hold_ms=900)):
        press(factory)
        release(factory)
        assert rec.quiet_for(0.6)


def test_double_tap(tap_button: tuple[ButtonDriver, Recorder], factory: MockFactory) -> None:
    _driver, rec = tap_button
    for _ in range(2):
        press(factory)
        assert rec.take(1) == [K.PRESSED]
        release(factory)
        assert rec.take(1) == [K.RELEASED]
    assert rec.take(1) == [K.DOUBLE_TAP]
    assert rec.quiet_for(0.4)


def test_hold_and_long_hold(button: tuple[ButtonDriver, Recorder], factory: MockFactory) -> None:
    _driver, rec = button
    press(factory)
    assert rec.take(2) == [K.PRESSED, K.HOLD_START]
    assert rec.take(1) == [K.LONG_HOLD]
    release(factory)
    assert rec.take(2) == [K.RELEASED, K.HOLD_END]
    assert rec.quiet_for(0.4)


def test_hold_released_before_long_hold(
    button: tuple[ButtonDriver, Recorder], factory: MockFactory
) -> None:
    _driver, rec = button
    press(factory)
    assert rec.take(2) == [K.PRESSED, K.HOLD_START]
    release(factory)
    assert rec.take(2) == [K.RELEASED, K.HOLD_END]
    assert rec.quiet_for(0.7)  # no LONG_HOLD after release


def test_event_times_mark_the_physical_edges(
    button: tuple[ButtonDriver, Recorder], factory: MockFactory
) -> None:
    _driver, rec = button
    before = time.monotonic_ns()
    press(factory)  # gpiozero calls the driver from this thread, inside drive_low()
    after = time.monotonic_ns()
    pressed = rec.events.get(timeout=3)
    hold = rec.events.get(timeout=3)
    release(factory)
    assert pressed.kind is K.PRESSED and hold.kind is K.HOLD_START
    assert before <= pressed.at_ns <= after  # the edge, not the debounce end (40 ms later)
    assert hold.at_ns - pressed.at_ns == 400_000_000


def test_active_high_button(factory: MockFactory) -> None:
    rec = Recorder()
    with fast_button(rec, active_low=False, timings=TAP_TIMINGS):
        factory.pin(PIN).drive_high()
        assert rec.take(1) == [K.PRESSED]
        factory.pin(PIN).drive_low()
        assert rec.take(2) == [K.RELEASED, K.TAP]


def test_a_failing_handler_does_not_stop_the_button(factory: MockFactory) -> None:
    rec = Recorder()

    def handler(event: ButtonEvent) -> None:
        rec(event)
        raise RuntimeError("handler bug")

    with fast_button(handler, timings=TAP_TIMINGS):
        press(factory)
        assert rec.take(1) == [K.PRESSED]
        release(factory)
        assert rec.take(2) == [K.RELEASED, K.TAP]


def test_bad_timings_are_named(factory: MockFactory) -> None:
    with pytest.raises(ValueError, match="hold_ms"):
        ButtonDriver(PIN, on_event=Recorder(), hold_ms=500, long_hold_ms=100)


def levels(pin: MockPWMPin) -> set[float]:
    """The distinct levels the pin has had since its states were last cleared."""
    return {round(s.state, 2) for s in pin.states}


@pytest.mark.parametrize(
    ("pattern", "check"),
    [
        (LedPattern.ON, lambda seen, state: state == 1.0),
        (LedPattern.OFF, lambda seen, state: state == 0.0),
        (LedPattern.FAST_BLINK, lambda seen, state: {0.0, 1.0} <= seen),
        (LedPattern.BREATHE, lambda seen, state: len(seen) > 10),  # smooth steps
    ],
)
def test_led_patterns(factory: MockFactory, pattern: LedPattern,
                      check: Callable[[set[float], float], bool]) -> None:
    with StatusLed(18) as led:
        led.set_pattern(LedPattern.ON if pattern is LedPattern.OFF else LedPattern.OFF)
        pin = factory.pin(18)
        pin.clear_states()
        led.set_pattern(pattern)
        assert led.pattern is pattern
        wait_until(lambda: check(levels(pin), pin.state), 3, f"the LED to show {pattern}")


def test_slow_pulse_flashes_briefly_every_two_seconds(factory: MockFactory) -> None:
    with StatusLed(18) as led:
        pin = factory.pin(18)
        pin.clear_states()
        led.set_pattern(LedPattern.SLOW_PULSE)
        wait_until(lambda: any(s.state > 0.5 for s in pin.states), 1.0, "the flash")
        # ... and it is off again well before the next flash, 2 s after the first
        wait_until(lambda: pin.state == 0.0, 1.5, "the LED to go dark after the flash")


def test_led_switches_from_other_threads(factory: MockFactory) -> None:
    with StatusLed(18) as led:
        patterns = list(LedPattern) * 5
        threads = [threading.Thread(target=led.set_pattern, args=(p,)) for p in patterns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=5)
        led.set_pattern(LedPattern.ON)  # stops (and joins) any blink thread, then lights
        assert factory.pin(18).state == 1.0
    with pytest.raises(ValueError, match="LED pattern"):
        StatusLed.set_pattern(led, "blink")  # type: ignore[arg-type]


def test_no_gpio_is_reported_once(caplog: pytest.LogCaptureFixture,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from drivers import gpio

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(gpio, "_said_unavailable", type(gpio._said_unavailable)())
    previous = Device.pin_factory
    Device.pin_factory = None
    try:
        with caplog.at_level("WARNING"):
            assert gpio_available() is False
            assert gpio_available() is False
        with pytest.raises(GpioUnavailableError, match="GPIO 17"):
            ButtonDriver(PIN, on_event=Recorder())
    finally:
        Device.pin_factory = previous
    assert caplog.text.count("no GPIO available") == 1


def test_gpio_available_with_a_pin_factory(factory: MockFactory) -> None:
    assert gpio_available() is True


def test_keyboard_button_taps_holds_and_double_taps() -> None:
    rec = Recorder()
    read_fd, write_fd = os.pipe()
    try:
        with KeyboardButton(rec, stream=read_fd, timings=FAST_TIMINGS):
            os.write(write_fd, b"\n")
            assert rec.take(3) == [K.PRESSED, K.RELEASED, K.TAP]
            os.write(write_fd, b"d\n")
            assert rec.take(5) == [K.PRESSED, K.RELEASED, K.PRESSED, K.RELEASED, K.DOUBLE_TAP]
            os.write(write_fd, b"h\n")
            assert rec.take(2) == [K.PRESSED, K.HOLD_START]
            os.write(write_fd, b"h\n")
            assert rec.take(2) == [K.RELEASED, K.HOLD_END]
    finally:
        os.close(read_fd)
        os.close(write_fd)



def test_keyboard_button_without_a_readable_input_says_so() -> None:
    with pytest.raises(ValueError, match="terminal or pipe"):
        KeyboardButton(Recorder(), stream=io.StringIO("h\n"))
