"""Settings every test shares, whatever machine it runs on."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.alsa.alsa_harness import isolate_alsa

# the system tests' summary table, written by the process that runs pytest (also under xdist)
from tests.system.summary import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    # Before any test opens ALSA (in this process or in a `maigic` subprocess, which inherits
    # the environment): the tests' own ALSA config, so plugin packages, /etc/asound.conf,
    # ~/.asoundrc and sound cards on this machine cannot change a result.
    isolate_alsa()


@pytest.fixture(autouse=True)
def process_logging_restored() -> Iterator[None]:
    """A test that runs ``maigic`` in-process (``runtime.cli.main``) configures the process's
    logging; put it back afterwards so no later test logs through that test's handler, level
    or crash hooks."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks
