"""Security tests: the key, the sockets, TLS, the sandbox, what is logged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.actors.leaks import no_leftover_actors_or_threads
from tests.fakes.openai_server import FakeOpenAIServer

__all__ = ["no_leftover_actors_or_threads"]

KEY = "sk-proj-SECURITYtest-0123456789abcdefghijKLMNOP"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """The fake provider, accepting only :data:`KEY`."""
    with FakeOpenAIServer(api_key=KEY) as fake:
        yield fake
