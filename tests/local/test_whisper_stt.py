"""The optional faster-whisper engine: its start-up checks (no model ships, none is fetched)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from drivers.local.whisper_stt import WhisperSpeechToTextClient


def test_a_missing_model_directory_is_a_start_up_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"has no model\.bin"):
        WhisperSpeechToTextClient(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"has no model\.bin"):
        WhisperSpeechToTextClient(tmp_path)


def test_a_model_without_the_package_is_a_start_up_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a real model")
    if importlib.util.find_spec("faster_whisper") is None:
        with pytest.raises(ValueError, match="needs the 'faster-whisper' package"):
            WhisperSpeechToTextClient(tmp_path)
    else:  # installed: CTranslate2 itself refuses the bogus file
        with pytest.raises(RuntimeError):
            WhisperSpeechToTextClient(tmp_path)
