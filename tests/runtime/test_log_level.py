"""``logging.level`` sets what a running ``maigic`` logs; ``--log-level`` overrides it.

A real ``maigic run`` process (local mode, the file-plugin speaker, silence from ``--input``):
at WARNING its INFO lines ("hub started") are not written; a SIGHUP after the file says INFO
applies the new level; the flag wins over the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.status import query_status
from tests.alsa.alsa_harness import CAPTURE_PCM, PLAYBACK_PCM, alsa_env
from tests.local.speech import silence
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
STARTED = "hub started (mode local)"  # logged at INFO by every hub start


def write_config(path: Path, level: str) -> None:
    path.write_text(f"""
audio:
  capture: {{device: {CAPTURE_PCM}}}
  playback: {{device: {PLAYBACK_PCM}}}
triggers: {{button: {{enabled: false}}, wake_word: {{enabled: false}}}}
feedback: {{earcons: false, led: false}}
status: {{socket: {path.parent / "status.sock"}}}
logging: {{level: {level}}}
""")


def answers(socket: Path) -> bool:
    try:
        query_status(socket, timeout=1)
    except (OSError, ValueError):
        return False
    return True


@contextmanager
def maigic_run(tmp_path: Path, *flags: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``maigic [flags] run`` on ``tmp_path/maigic.yaml``; yields it once it answers."""
    wav = tmp_path / "silence.wav"
    wav.write_bytes(silence(120_000).to_wav())
    log_path = tmp_path / "hub.log"
    env = {**os.environ, **alsa_env(tmp_path / "in.raw", tmp_path / "played.wav"),
           "PYTHONPATH": str(ROOT)}
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
        env.pop(name, None)
    with log_path.open("wb") as log:
        hub = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", *flags, "run",
             "--config", str(tmp_path / "maigic.yaml"), "--input", str(wav)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers(tmp_path / "status.sock") or hub.poll() is not None, 60,
                   "the hub's status socket")
        assert hub.poll() is None, log_path.read_text()
        yield hub, log_path
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=30)


def test_the_configured_level_applies_at_start_and_on_reload(tmp_path: Path) -> None:
    config = tmp_path / "maigic.yaml"
    write_config(config, "WARNING")
    with maigic_run(tmp_path) as (hub, log_path):
        assert STARTED not in log_path.read_text()  # INFO is below WARNING
        write_config(config, "INFO")
        hub.send_signal(signal.SIGHUP)
        wait_until(lambda: f"config reloaded from {config}" in log_path.read_text(), 60,
                   "the reload to be logged at the new level")
        assert STARTED in log_path.read_text()


def test_the_log_level_flag_overrides_the_config(tmp_path: Path) -> None:
    write_config(tmp_path / "maigic.yaml", "WARNING")
    with maigic_run(tmp_path, "--log-level", "info") as (_hub, log_path):
        wait_until(lambda: STARTED in log_path.read_text(), 10, "the INFO start line")
