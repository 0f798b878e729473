from __future__ import annotations

import pytest

from drivers.openai import OpenAIConfig
from tests.alsa.alsa_harness import alsa_files  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer
from tests.openai.conftest import server  # noqa: F401


@pytest.fixture
def config(server: FakeOpenAIServer) -> OpenAIConfig:  # noqa: F811 - the imported fixture
    """Pointed at the fake server with the default link timings: an unpaced file floods the
    fake (it validates every frame), and under CPU load a 1 s dead-link limit would trip."""
    return OpenAIConfig(api_key=server.api_key, base_url=server.base_url, max_retries=0)
