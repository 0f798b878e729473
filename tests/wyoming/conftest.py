"""Fixtures for the Wyoming tests: real servers (one of each per test session), the usual
leak check, file-plugin ALSA devices and the fake OpenAI server for the chat stage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.actors.leaks import no_leftover_actors_or_threads
from tests.alsa.alsa_harness import alsa_files
from tests.e2e.conftest import _no_notify_socket, fake_openai
from tests.wyoming.servers import WyomingServer, piper_server, whisper_server

__all__ = ["_no_notify_socket", "alsa_files", "fake_openai", "no_leftover_actors_or_threads"]


@pytest.fixture(scope="session")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WyomingServer]:
    with whisper_server(tmp_path_factory.mktemp("whisper")) as server:
        yield server


@pytest.fixture(scope="session")
def piper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WyomingServer]:
    with piper_server(tmp_path_factory.mktemp("piper")) as server:
        yield server
