"""Fixtures for chaos runs: the fake provider, no systemd socket, nothing left behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.actors.leaks import no_leftover_actors_or_threads
from tests.fakes.openai_server import FakeOpenAIServer

__all__ = ["fake_openai", "no_leftover_actors_or_threads"]


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
