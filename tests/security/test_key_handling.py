"""The API key: never in exception text, ``config show``, crash logs or repr; its file's
permissions are checked."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.openai.chat import ChatClient
from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient
from drivers.openai.stt import OpenAISpeechToTextClient
from speech_api import AudioChunk
from speech_api.errors import APIError, SpeechAPIError
from tests.fakes.openai_server import FakeOpenAIServer
from tests.security.conftest import KEY
from tests.security.hubproc import ROOT, hub_config

ECHO = f"Incorrect API key provided: {KEY}."


def assert_clean(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), repr(exc.args)):
        assert KEY not in text and KEY[8:-4] not in text, text


def test_realtime_handshake_error_does_not_carry_the_key(server: FakeOpenAIServer) -> None:
    server.script.reject_websocket(401, code="invalid_api_key", message=ECHO)
    client = OpenAIRealtimeClient(OpenAIConfig(api_key=KEY, base_url=server.base_url))
    with pytest.raises(APIError) as caught:
        client.open_speech_to_speech()
    assert "Incorrect API key provided" in str(caught.value)
    assert_clean(caught.value)


def test_http_errors_do_not_carry_the_key(server: FakeOpenAIServer) -> None:
    config = OpenAIConfig(api_key=KEY, base_url=server.base_url, max_retries=0)
    server.script.fail_http("/chat/completions", 401, code="invalid_api_key", message=ECHO)
    with pytest.raises(APIError) as chat_error, \
            ChatClient(config).stream([{"role": "user", "content": "hi"}]) as stream:
        list(stream)
    server.script.fail_http("/audio/transcriptions", 401, code="invalid_api_key", message=ECHO)
    with pytest.raises(SpeechAPIError) as stt_error:
        OpenAISpeechToTextClient(config).transcribe_blocking(AudioChunk.pcm(b"\0\0" * 1600,
                                                                            16000))
    for caught in (chat_error, stt_error):
        assert "Incorrect API key provided" in str(caught.value)
        assert_clean(caught.value)


def test_config_repr_hides_the_key() -> None:
    assert KEY not in repr(OpenAIConfig(api_key=KEY))
    assert KEY not in str(OpenAIConfig(api_key=KEY))


def test_config_show_and_check_never_print_the_key(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        config = hub_config(tmp_path, server)
    key_file = tmp_path / "openai.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    text = config.read_text().replace("openai:\n", f"openai:\n  api_key_file: {key_file}\n", 1)
    config.write_text(text)
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    shown = {}
    for action in ("show", "check"):
        out = subprocess.run([sys.executable, "-m", "runtime.cli", "config", action,
                              str(config)], capture_output=True, text=True, timeout=60,
                             cwd=ROOT, env=env)
        assert out.returncode == 0, out.stderr
        shown[action] = out.stdout + out.stderr
        assert KEY not in shown[action] and KEY[8:-4] not in shown[action]
    assert f"API key: from file {key_file} (contents not shown)" in shown["show"]


CRASH = f"""
import threading
from runtime.logging_setup import register_secret, setup_logging
setup_logging()
register_secret({KEY!r})
def boom():
    raise RuntimeError("provider said: bad key {KEY}")
t = threading.Thread(target=boom, name="worker")
t.start(); t.join()
raise ValueError("main thread dies holding {KEY}")
"""


def test_crash_tracebacks_are_scrubbed() -> None:
    out = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode != 0
    assert "uncaught exception in thread worker" in out.stderr
    assert "RuntimeError: provider said: bad key [redacted]" in out.stderr
    assert "ValueError: main thread dies holding [redacted]" in out.stderr
    assert KEY not in out.stderr + out.stdout


def test_key_file_readable_by_others_is_warned_about(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    key_file = tmp_path / "openai.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    caplog.set_level(logging.WARNING)
    assert OpenAIConfig(api_key_file=str(key_file)).resolve_api_key() == KEY
    assert not caplog.records
    key_file.chmod(0o644)
    assert OpenAIConfig(api_key_file=str(key_file)).resolve_api_key() == KEY
    assert any("readable by group/other" in r.getMessage() for r in caplog.records)
    assert all(KEY not in r.getMessage() for r in caplog.records)
