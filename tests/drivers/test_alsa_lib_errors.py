"""alsa-lib's own error prints go to our DEBUG log, not stderr (no line per retry)."""

from __future__ import annotations

import logging
from pathlib import Path

import alsaaudio
import pytest

from drivers.alsa_pcm import default_pcm_factory, pcm_kwargs
from tests.alsa.alsa_harness import CAPTURE_PCM, use_alsa_files


def test_a_failed_open_is_logged_at_debug_and_keeps_alsa_libs_errno(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_alsa_files(monkeypatch, tmp_path / "missing" / "mic.fifo", tmp_path / "out.wav")
    kwargs = pcm_kwargs(capture=True, device=CAPTURE_PCM, rate=16000, channels=1,
                        period_frames=320, periods=4)
    with caplog.at_level(logging.DEBUG, logger="drivers.alsa_pcm"):
        for _attempt in range(3):
            # the reason survives the handler (alsa-lib returns -errno after reporting)
            with pytest.raises(alsaaudio.ALSAAudioError, match="No such file or directory"):
                default_pcm_factory(**kwargs)
    assert "ALSA lib" not in capfd.readouterr().err
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alsa-lib ")]
    assert len(lines) == 3 and "pcm_file.c" in lines[0] and "[errno 2]" in lines[0], lines
