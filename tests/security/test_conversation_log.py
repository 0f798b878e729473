"""What is logged of conversations: nothing of what was said unless the owner turns
``logging.conversation`` on (a whole turn through the hub, both ways)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runtime.config import LoggingConfig
from tests.chaos.harness import ChaosRig, Tally
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer

SAID = "my bank pin is four four two one"
ANSWERED = "noted your private details"


def logged_turn(tmp_path: Path, caplog: pytest.LogCaptureFixture, extra: str) -> str:
    with FakeOpenAIServer() as server, pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", server.api_key)
        return _turn(tmp_path, server, caplog, extra)


def _turn(tmp_path: Path, server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture,
          extra: str) -> str:
    server.script.transcript = SAID
    caplog.set_level(logging.DEBUG)
    with ChaosRig(tmp_path, server, extra_config=extra) as rig:
        server.script.add_reply(Reply(text=ANSWERED, audio=tone_pcm(300)))
        tally = Tally("log")
        rig.turn(tally, "none")
        assert tally.answered == 1, "the turn was not answered"
    return "\n".join(r.getMessage() for r in caplog.records)


def test_conversations_are_not_logged_by_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    assert LoggingConfig().conversation is False
    log = logged_turn(tmp_path, caplog, extra="")
    assert "state THINKING -> SPEAKING" in log  # the turn itself is logged
    # (the same turn with logging on shows both texts: see the next test)
    assert SAID not in log and ANSWERED not in log


def test_conversation_logging_when_turned_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    log = logged_turn(tmp_path, caplog, extra="logging: {conversation: true}\n")
    assert f"user said: {SAID}" in log
    assert f"assistant said: {ANSWERED}" in log
