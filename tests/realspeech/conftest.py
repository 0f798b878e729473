"""Fixtures for the real-speech tests: real alsa-lib file-plugin playback."""

from __future__ import annotations

from tests.alsa.alsa_harness import alsa_files

__all__ = ["alsa_files"]
