"""An unusable local engine setting stops start-up with a message naming the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_with(tmp_path: Path, yaml_text: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "maigic.yaml"
    config.write_text(yaml_text)
    return subprocess.run([sys.executable, "-m", "runtime.cli", "run", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_faster_whisper_without_a_model_is_refused_at_start(tmp_path: Path) -> None:
    model_dir = tmp_path / "whisper"
    model_dir.mkdir()
    done = run_with(tmp_path, f"local:\n  stt:\n    engine: faster_whisper\n"
                              f"    model_dir: {model_dir}\n")
    assert done.returncode == 2
    assert "local.stt.model_dir" in done.stderr and "model.bin" in done.stderr
    assert "Traceback" not in done.stderr


def test_pocketsphinx_in_another_language_is_refused_at_start(tmp_path: Path) -> None:
    done = run_with(tmp_path, "local:\n  stt:\n    language: de\n")
    assert done.returncode == 2
    assert "local.stt.language" in done.stderr and "Traceback" not in done.stderr


def test_the_packaged_english_whisper_model_in_another_language_is_refused_at_start(
        tmp_path: Path) -> None:
    done = run_with(tmp_path, "local:\n  stt:\n    engine: faster_whisper\n    language: de\n")
    assert done.returncode == 2
    assert "local.stt.language" in done.stderr and "tiny.en" in done.stderr
    assert "Traceback" not in done.stderr
