"""A timer's ring is spoken like an answer: a tap on the real (mock-pin) button stops it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from runtime.hub import Hub
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import at, load, running_hub, wait_for, write_config
from tests.e2e.test_triggers import BUTTON, mock_pins, tap
from tests.fakes.openai_script import Reply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence

__all__ = ["mock_pins"]  # the fixture, shared with the trigger tests


@pytest.mark.parametrize("fallback", ["true", "false"])
def test_a_tap_stops_a_timer_ringing_while_the_hub_rests(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer, mock_pins: MockFactory,
    caplog: pytest.LogCaptureFixture, fallback: str,
) -> None:
    caplog.set_level(logging.INFO, logger="actors.conversation")
    call = ToolCall("set_timer", json.dumps({"duration_seconds": 3}))
    fake_openai.script.add_reply(Reply(text="", tool_call=call))
    fake_openai.script.add_reply(Reply(text="Set.", ms_per_char=30))
    config = BUTTON + f"    fallback: {{enabled: {fallback}}}\n"
    hub = Hub(load(write_config(tmp_path, fake_openai, config)))
    pcm = concat(silence(1000), flite("set a timer for three seconds"), silence(16000)).data
    with running_hub(hub, alsa_files, pcm) as feed:
        at(feed, 0.4)
        tap(mock_pins)
        assert hub.wait_for_state("listening", 3), "the tap did not start listening"
        wait_for(lambda: hub.state == "speaking" and hub.state_cause == "announcement", 20,
                 "the timer's ring")
        tap(mock_pins)
        assert hub.wait_for_state("idle", 3), "the tap did not stop the ring"
    states = [r.getMessage() for r in caplog.records if r.getMessage().startswith("state ")]
    assert "state SPEAKING -> IDLE (interrupted by tap)" in states, states
    assert "state SPEAKING -> IDLE (announcement played)" not in states, states
    # the ring was the hub's own: the provider was not asked to cancel a response it had not
    assert "response.cancel" not in fake_openai.types("in")
    assert "error" not in fake_openai.types("out")
