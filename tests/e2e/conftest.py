"""Fixtures for end-to-end tests through the real actor graph.

Real alsa-lib (file plugin: capture from a FIFO fed in real time, playback to a
WAV), the fake OpenAI server through the real websocket client, real VAD.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.actors.leaks import no_leftover_actors_or_threads
from tests.alsa.alsa_harness import alsa_files
from tests.fakes.openai_server import FakeOpenAIServer

__all__ = ["alsa_files", "fake_openai", "no_leftover_actors_or_threads"]


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
        yield server
        server.assert_valid()


@pytest.fixture(autouse=True)
def _no_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)
