"""Which local speech-to-text engine a board gets: ``auto`` decided from what it has.

faster-whisper tiny.en understands ordinary speech (0-7 % WER on read prose here,
pocketsphinx 30+ %) but needs ~270 MB of RAM; pocketsphinx needs ~100 MB. ``auto``
picks whisper when faster-whisper is installed, a model is available (see
:mod:`drivers.local.whisper_model`), the language is English (tiny.en) or the owner
gave a model directory, and the board has at least :data:`WHISPER_MIN_MEMORY` of RAM
(a Pi Zero 2 W has 512 MB: pocketsphinx with the skills' grammar there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from drivers.local.whisper_model import (
    WhisperModelError,
    default_download_dir,
    faster_whisper_installed,
    find_model,
    mem_total_bytes,
)

log = logging.getLogger(__name__)

WHISPER_MIN_MEMORY = 1 << 30  # MemTotal; a Pi Zero 2 W reports ~420 MiB of its 512 MB
POCKETSPHINX, WHISPER = "pocketsphinx", "faster_whisper"


@dataclass(frozen=True, slots=True)
class SttChoice:
    engine: str  # POCKETSPHINX or WHISPER
    reason: str  # why, for the log and `maigic status`


def is_english(language: str) -> bool:
    """Whether a language code ("en", "en-US") is English: what tiny.en and pocketsphinx speak."""
    return language.split("-", maxsplit=1)[0].lower() == "en"


def choose_stt_engine(engine: str, *, language: str = "en", model_dir: Path | None = None,
                      download_dir: Path | None = None,
                      mem_total: int | None = None) -> SttChoice:
    """The engine to run for the ``local.stt.engine`` setting (``auto`` resolved)."""
    if engine != "auto":
        return SttChoice(engine, "configured")
    if not faster_whisper_installed():
        return SttChoice(POCKETSPHINX, "faster-whisper is not installed")
    memory = mem_total if mem_total is not None else mem_total_bytes()
    if memory is not None and memory < WHISPER_MIN_MEMORY:
        return SttChoice(POCKETSPHINX, f"{memory >> 20} MiB of RAM (whisper needs "
                                       f"{WHISPER_MIN_MEMORY >> 20} MiB)")
    if model_dir is None and not is_english(language):
        return SttChoice(POCKETSPHINX, f"the packaged tiny.en model speaks English, not "
                                       f"{language!r}")
    try:
        found = find_model(model_dir, download_dir or default_download_dir())
    except WhisperModelError as exc:
        log.warning("faster-whisper model unusable, using pocketsphinx: %s", exc)
        return SttChoice(POCKETSPHINX, str(exc))
    if found is None:
        return SttChoice(POCKETSPHINX, "no faster-whisper model installed")
    return SttChoice(WHISPER, found.describe())


__all__ = ["POCKETSPHINX", "WHISPER", "WHISPER_MIN_MEMORY", "SttChoice", "choose_stt_engine",
           "is_english"]
