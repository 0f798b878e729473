"""No API key, or a rejected one, in every online mode: the user is answered locally at
once, the log says so in one line, and ``maigic status`` tells the truth."""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from actors.engines.link import LinkState
from runtime.engine_factory import EngineContext, EngineMaker
from runtime.hub import Hub, HubControl
from runtime.status import query_status
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.e2e.hubtest import RATE, load, running_hub, write_config
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ALWAYS_LISTENING, ModeHub, run_until_idle

OFFLINE_TIME = re.compile(
    r"I'm offline, I can still tell the time and set timers\. It's \d{1,2}(:\d\d| o'clock) [AP]M\.")
MODES = {
    "realtime": "mode: realtime",
    "chained": "mode: chained\nchained: {stt: {mode: batch}}\nopenai: {max_retries: 0}",
}
KEYS = {"no key": None, "rejected key": "sk-wrong-key-0123456789abcdef"}


def _set_key(monkeypatch: pytest.MonkeyPatch, key: str | None) -> None:
    if key is None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", key)


@pytest.mark.parametrize("key", KEYS, ids=list(KEYS))
@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_the_first_question_is_answered_locally_with_one_log_line(
    mode: str, key: str, tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    _set_key(monkeypatch, KEYS[key])
    context = EngineContext()
    run = ModeHub(tmp_path, fake_openai, MODES[mode] + "\nfallback: {enabled: true}", context)
    pcm = concat(silence(3000), flite("what time is it"), silence(7000)).data  # after the
    # standby recogniser loaded (on a busy machine its load may delay the pre-roll)
    with caplog.at_level(logging.INFO), running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 30)
        snapshot = context.link.snapshot()
    assert OFFLINE_TIME.fullmatch(run.answers()[0]), (run.answers(), run.heard())
    assert snapshot["state"] == "rejected" and snapshot["online"] is False
    assert context.link.answers() == "offline skills (fallback)"
    link_lines = [r for r in caplog.records if r.name == "actors.engines.link"]
    assert len(link_lines) == 1, [r.getMessage() for r in link_lines]
    assert link_lines[0].levelno == logging.ERROR
    assert ("no OpenAI API key" if KEYS[key] is None else "invalid_api_key") in \
        link_lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                and r.name.startswith(("actors.session", "actors.engines.chained"))]
    assert snapshot["attempts"] == 1  # rejected once, not retried (that waits minutes)
    assert fake_openai.realtime_connections == 0


@pytest.mark.parametrize(("fallback", "answers"), [
    (True, "offline skills (fallback)"), (False, "nobody (the provider rejected the hub)")])
def test_maigic_status_tells_the_truth_without_a_key(
    fallback: bool, answers: str, tmp_path: Path, alsa_files: AlsaFiles,
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set_key(monkeypatch, None)
    enabled = "true" if fallback else "false"
    config = load(write_config(tmp_path, fake_openai,
                               ALWAYS_LISTENING + f"fallback: {{enabled: {enabled}}}"))
    hub, control = Hub(config), HubControl()
    with FifoFeeder(alsa_files.infile, bytes(RATE * 2 * 10), RATE):
        runner = threading.Thread(target=hub.run, args=(control,), name="test-hub-run")
        runner.start()
        try:
            assert isinstance(hub.parts.engine, EngineMaker)
            assert hub.parts.engine.context.link.wait_for(LinkState.REJECTED, 20)
            assert hub.wait_for_state("idle" if fallback else "offline", 20)
            status = _status_when_served(config.status.socket, control.stop)
        finally:
            control.stop.set()
            runner.join(10)
    assert status["online"] is False
    assert status["provider"]["link"] == "rejected"
    assert status["provider"]["answers"] == answers
    assert "no OpenAI API key" in status["provider"]["last_error"]


def _status_when_served(socket: Path, stop: threading.Event) -> dict[str, Any]:
    """The status, once ``Hub.run`` has opened its socket (just after the hub started)."""
    for _ in range(100):
        if socket.exists():
            return query_status(socket)
        stop.wait(0.05)
    raise AssertionError(f"no status socket at {socket} within 5 s")


def test_transcribe_without_a_key_transcribes_locally_and_exits_until_idle(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set_key(monkeypatch, None)
    notes = tmp_path / "notes.txt"
    path = write_config(tmp_path, fake_openai, ALWAYS_LISTENING + f"""
mode: transcribe
fallback: {{enabled: true}}
transcribe: {{output_file: {json.dumps(str(notes))}}}
""")
    assert run_until_idle(path, tmp_path / "question.wav", flite("what time is it")) == 0
    assert "time" in notes.read_text()  # the local recogniser wrote it
    assert fake_openai.realtime_connections == 0


def test_transcribe_without_a_key_or_a_fallback_says_so_and_exits_until_idle(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    _set_key(monkeypatch, None)
    path = write_config(tmp_path, fake_openai, ALWAYS_LISTENING + """
mode: transcribe
fallback: {enabled: false}
""")
    with caplog.at_level(logging.INFO):
        assert run_until_idle(path, tmp_path / "question.wav", flite("buy more milk")) == 0
    cannot = [r.getMessage() for r in caplog.records if "cannot transcribe" in r.getMessage()]
    assert len(cannot) == 1 and "no OpenAI API key" in cannot[0], cannot
