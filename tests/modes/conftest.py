"""Fixtures for the mode tests: leak check, file-plugin ALSA devices, the fake OpenAI server."""

from tests.actors.leaks import no_leftover_actors_or_threads
from tests.alsa.alsa_harness import alsa_files
from tests.e2e.conftest import _no_notify_socket, fake_openai

__all__ = ["_no_notify_socket", "alsa_files", "fake_openai", "no_leftover_actors_or_threads"]
