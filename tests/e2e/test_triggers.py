"""Push-to-talk, tap, double tap (real gpiozero MockFactory) and the wake word, end to end."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from runtime.engine_factory import EngineMaker
from runtime.hub import Hub
from runtime.status_snapshot import status_snapshot
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import Transitions, at, load, running_hub, speech, wait_for, write_config
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence

PIN = 17
BUTTON = """
    triggers:
      button: {enabled: true, pin: 17, hold_ms: 300, double_tap_ms: 250}
      wake_word: {enabled: false}
    conversation: {follow_up_s: 0}
    feedback: {earcons: true}
"""


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    factory = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = factory
    factory.pin(PIN).drive_high()  # active low: high is "not pressed"
    yield factory
    factory.reset()
    Device.pin_factory = None


def press(pins: MockFactory) -> None:
    pins.pin(PIN).drive_low()


def release(pins: MockFactory) -> None:
    pins.pin(PIN).drive_high()


TAP_S = 0.08  # how long a finger holds a tap (the gesture itself, not a wait)
BETWEEN_TAPS_S = 0.05  # the gap inside a double tap (under double_tap_ms)


def tap(pins: MockFactory) -> None:
    press(pins)
    time.sleep(TAP_S)
    release(pins)


def double_tap(pins: MockFactory) -> None:
    tap(pins)
    time.sleep(BETWEEN_TAPS_S)
    tap(pins)


def earcons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage().split()[1] for r in caplog.records
            if r.name == "actors.playback" and r.getMessage().startswith("earcon ")]


def test_push_to_talk_hold_speak_release(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer, mock_pins: MockFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="hi", audio=tone_pcm(500)))
    words = speech("Turn on the kitchen lights please.")
    spoken_s = (words.duration_ms or 0) / 1000
    config = BUTTON.replace("feedback: {earcons: true}",
                            "feedback: {earcons: true, led: true, led_pin: 27}")
    hub = Hub(load(write_config(tmp_path, fake_openai, config)))
    with running_hub(hub, alsa_files, concat(silence(1000), words, silence(10000)).data) as feed:
        at(feed, 0.4)
        press(mock_pins)
        assert hub.wait_for_state("listening", 2), "holding did not start listening"
        wait_for(lambda: mock_pins.pin(27).state == 1, 2, "the LED on while listening")
        at(feed, 1.0 + spoken_s + 0.2)
        assert hub.state == "listening", "the turn ended while the button was held"
        release(mock_pins)
        assert hub.wait_for_state("thinking", 2), "releasing did not commit"
        assert hub.wait_for_state("idle", 10)
    assert mock_pins.pin(27).state == 0, "the LED was left on after the hub stopped"
    transitions = [r.getMessage() for r in caplog.records if r.name == "actors.conversation"]
    assert any("IDLE -> LISTENING (button held)" in t for t in transitions)
    assert any("LISTENING -> THINKING (button released)" in t for t in transitions)
    sent = fake_openai.types("in")
    assert sent.count("input_audio_buffer.commit") == 1
    assert sent.index("input_audio_buffer.commit") + 1 == sent.index("response.create")
    assert earcons(caplog)[0] == "WAKE"


def test_tap_starts_a_turn_and_a_tap_interrupts_the_answer(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer, mock_pins: MockFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="long", audio=tone_pcm(8000), pace_s=0.05))
    pcm = concat(silence(1000), speech("Read me the news."), silence(12000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, BUTTON)))
    with running_hub(hub, alsa_files, pcm) as feed:
        at(feed, 0.3)
        tap(mock_pins)
        assert hub.wait_for_state("listening", 2)
        assert hub.wait_for_state("speaking", 10), "the end of speech did not commit"
        wait_for(lambda: bool(hub.turns), 5, "the answer's first audio on the device")
        tap(mock_pins)
        assert hub.wait_for_state("idle", 2), "the tap did not interrupt"
        assert fake_openai.wait_until(lambda: "response.cancel" in fake_openai.types("in"), 3)
    assert Transitions(caplog.records).states() == ["IDLE", "LISTENING", "THINKING", "SPEAKING",
                                                    "IDLE"]
    assert any("SPEAKING -> IDLE (interrupted by tap)" in r.getMessage() for r in caplog.records)


def test_double_tap_mutes_and_unmutes(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer, mock_pins: MockFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="ok", audio=tone_pcm(300)))
    config = BUTTON.replace("wake_word: {enabled: false}",
                            "wake_word: {enabled: false}\n      always_listening: true")
    pcm = concat(silence(1000), speech("This should not be heard."), silence(1500),
                 speech("Now you can hear me."), silence(10000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, config)))
    with running_hub(hub, alsa_files, pcm) as feed:
        at(feed, 0.2)
        double_tap(mock_pins)
        assert hub.wait_for_state("muted", 2)
        assert status_snapshot(hub)["muted"] is True
        assert isinstance(hub.parts.engine, EngineMaker)
        assert hub.parts.engine.context.skill_context.status().muted is True  # status skill
        first_end = 1.0 + (speech("This should not be heard.").duration_ms or 0) / 1000
        at(feed, first_end + 0.9)
        assert hub.state == "muted", "speech while muted started a turn"
        double_tap(mock_pins)
        assert hub.wait_for_state("idle", 2)
        assert status_snapshot(hub)["muted"] is False
        assert hub.wait_for_state("speaking", 10), "no turn after unmuting"
        assert hub.wait_for_state("idle", 10)
    assert fake_openai.types("in").count("input_audio_buffer.commit") == 1
    assert Transitions(caplog.records).states() == ["IDLE", "MUTED", "IDLE", "LISTENING",
                                                    "THINKING", "SPEAKING", "IDLE"]
    assert earcons(caplog)[:2] == ["MUTED", "UNMUTED"]


def test_wake_word_starts_a_turn(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="ok", audio=tone_pcm(400)))
    config = """
        triggers:
          button: {enabled: false}
          wake_word: {enabled: true, engine: micro, model: okay_nabu, window: 3}
        conversation: {follow_up_s: 0}
    """
    pcm = concat(silence(800), flite("okay nabu", "slt"), silence(1200),
                 speech("What is on my calendar?"), silence(10000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, config)))
    with running_hub(hub, alsa_files, pcm):
        assert hub.wait_for_state("listening", 10), "the wake word was not heard"
        assert hub.wait_for_state("speaking", 10)
        assert hub.wait_for_state("idle", 10)
    assert any("IDLE -> LISTENING (wake word 'okay_nabu')" in r.getMessage()
               for r in caplog.records)
    assert fake_openai.types("in").count("input_audio_buffer.commit") == 1
