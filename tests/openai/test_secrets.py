"""The API key never reaches a log line or an exception text, whatever fails."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import traceback
from collections.abc import Callable

import pytest

from drivers.openai.chat import ChatClient
from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient
from drivers.openai.stt import OpenAISpeechToTextClient
from drivers.openai.tts import OpenAITextToSpeechClient
from speech_api.audio import AudioChunk
from speech_api.errors import SpeechAPIError
from speech_api.events import SessionReady
from tests.fakes.openai_server import FakeOpenAIServer
from tests.openai.helpers import send_all, utterance, wait_for

WRONG_KEY = "sk-proj-WRONGkey0123456789abcdefSECRET"


def attempts(config: OpenAIConfig) -> list[SpeechAPIError]:
    audio = AudioChunk.pcm(bytes(3200), 16000)
    calls: list[Callable[[], object]] = [
        lambda: OpenAISpeechToTextClient(config).transcribe_blocking(audio),
        lambda: list(OpenAISpeechToTextClient(config).transcribe_stream_blocking(audio)),
        lambda: OpenAITextToSpeechClient(config).synthesize_blocking("hi"),
        lambda: list(OpenAITextToSpeechClient(config).synthesize_stream_blocking("hi")),
        lambda: list(ChatClient(config).stream([{"role": "user", "content": "hi"}])),
        lambda: OpenAIRealtimeClient(config).open_speech_to_speech(),
        lambda: OpenAIRealtimeClient(config).open_transcription(),
    ]
    errors = []
    for call in calls:
        with pytest.raises(SpeechAPIError) as info:
            call()
        errors.append(info.value)
    return errors


def test_wrong_key_appears_in_no_error_and_no_log(
    server: FakeOpenAIServer, config: OpenAIConfig, caplog: pytest.LogCaptureFixture
) -> None:
    bad = dataclasses.replace(config, api_key=WRONG_KEY)
    with caplog.at_level(logging.DEBUG):
        errors = attempts(bad)
    assert len(errors) == 7
    # The fake echoes the wrong key in full in its 401 body, like a careless server.
    assert any("Incorrect API key provided" in str(e) for e in errors)
    for error in errors:
        text = "".join(traceback.format_exception(error)) + repr(error)
        assert WRONG_KEY not in text, text
        assert getattr(error, "status", None) == 401
    assert WRONG_KEY not in caplog.text
    assert WRONG_KEY[:12] not in caplog.text


def test_right_key_is_absent_from_debug_logs_of_a_working_session(
    server: FakeOpenAIServer, config: OpenAIConfig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        OpenAISpeechToTextClient(config).transcribe_blocking(AudioChunk.pcm(bytes(3200), 16000))
        list(ChatClient(config).stream([{"role": "user", "content": "hi"}]))
        session = OpenAIRealtimeClient(config).open_speech_to_speech()
        try:
            session.initialize_session()
            wait_for(session, SessionReady)
            send_all(session, utterance(200, 100))
        finally:
            session.close()
    assert caplog.records  # debug logging really was on
    assert server.api_key not in caplog.text


def test_importing_the_realtime_path_does_not_import_openai() -> None:
    code = (
        "import sys\n"
        "import drivers.openai.realtime, drivers.openai\n"
        "from drivers.openai import OpenAIRealtimeClient, OpenAIConfig\n"
        "bad = sorted(m for m in sys.modules if m == 'openai' or m.startswith('openai.'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
