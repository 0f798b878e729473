"""Fixtures for the OpenAI provider tests: a fake server per test, strict checks after.

Every test that uses ``server`` fails if any frame in either direction broke the
protocol, and every test fails if it left a thread running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from drivers.openai.config import OpenAIConfig
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return
        time.sleep(0.02)
    raise AssertionError(f"threads still running after the test: {left}")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer() as fake:
        yield fake
    fake.assert_valid()


@pytest.fixture
def config(server: FakeOpenAIServer) -> OpenAIConfig:
    """Fast-failing settings pointed at the fake server."""
    return OpenAIConfig(
        api_key=server.api_key,
        base_url=server.base_url,
        timeout_s=5.0,
        connect_timeout_s=2.0,
        max_retries=0,
        ping_interval_s=0.2,
        dead_link_after_s=1.0,
        reconnect_initial_s=0.05,
        reconnect_max_s=0.2,
    )
