"""Settings every test shares, whatever machine it runs on."""

from __future__ import annotations

import pytest

from tests.alsa.alsa_harness import isolate_alsa


def pytest_configure(config: pytest.Config) -> None:
    # Before any test opens ALSA (in this process or in a `maigic` subprocess, which inherits
    # the environment): the tests' own ALSA config, so plugin packages, /etc/asound.conf,
    # ~/.asoundrc and sound cards on this machine cannot change a result.
    isolate_alsa()
