"""Chaos runs use the end-to-end fixtures: the fake provider (its key in the
environment), no systemd socket, and nothing left running afterwards."""

from tests.actors.leaks import no_leftover_actors_or_threads
from tests.e2e.conftest import _no_notify_socket, fake_openai

__all__ = ["_no_notify_socket", "fake_openai", "no_leftover_actors_or_threads"]
