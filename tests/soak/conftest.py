"""The soak runs on the chaos fixtures."""

from tests.chaos.conftest import _no_notify_socket, fake_openai, no_leftover_actors_or_threads

__all__ = ["_no_notify_socket", "fake_openai", "no_leftover_actors_or_threads"]
