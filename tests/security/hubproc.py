"""A real ``maigic run`` process for security checks from the outside.

The hub runs in its own process (as under systemd) on a config in a fresh
directory under /tmp (traversable, so other users can be tried), with the speech
of a WAV as its microphone (``--input``), the ALSA file plugin as its speaker and
the fake OpenAI server as its provider. Its log (stderr) is kept in a file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runtime.status import query_status
from tests.alsa.alsa_harness import alsa_env
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class HubProcess:
    proc: subprocess.Popen[bytes]
    base: Path
    socket: Path
    log_path: Path
    final_log: str | None = None  # kept when the process stopped (its directory goes)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        if self.final_log is not None:
            return self.final_log
        return self.log_path.read_text(errors="replace")


def hub_config(base: Path, server: FakeOpenAIServer, extra: str = "") -> Path:
    path = base / "maigic.yaml"
    path.write_text(textwrap.dedent(f"""
        mode: realtime
        audio:
          capture: {{device: default, sample_rate: 16000}}
          playback: {{device: testplay, sample_rate: 16000}}
        triggers: {{always_listening: true, wake_word: {{enabled: false}},
                    button: {{enabled: false}}}}
        conversation: {{follow_up_s: 0}}
        openai:
          base_url: {server.base_url}
          realtime: {{turn_detection: none}}
        feedback: {{earcons: false, led: false}}
        logging: {{level: DEBUG}}
        status: {{socket: {base / "run" / "status.sock"}}}
    """) + textwrap.dedent(extra))
    path.chmod(0o600)
    return path


@contextmanager
def hub_process(server: FakeOpenAIServer, *, key: str, extra: str = "",
                question: str = "What time is it?") -> Iterator[HubProcess]:
    """``maigic run`` with ``OPENAI_API_KEY=key``, up once its status socket answers."""
    base = Path(tempfile.mkdtemp(prefix="maigic-sec-", dir="/tmp"))
    base.chmod(0o755)
    try:
        config = hub_config(base, server, extra)
        wav = base / "question.wav"
        wav.write_bytes(concat(silence(500), flite(question), silence(30000)).to_wav())
        env = {**os.environ, **alsa_env(base / "in.raw", base / "played.wav"),
               "OPENAI_API_KEY": key, "PYTHONPATH": str(ROOT)}
        for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
            env.pop(name, None)
        log_path = base / "hub.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "runtime.cli", "run", "--config", str(config),
                 "--input", str(wav)], cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
        hub = HubProcess(proc, base, base / "run" / "status.sock", log_path)
        try:
            _wait_for_status(hub, 60)
            yield hub
        finally:
            _stop(proc)
            hub.final_log = hub.log()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_status(hub: HubProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.proc.poll() is not None:
            raise AssertionError(f"the hub exited ({hub.proc.returncode}):\n{hub.log()}")
        try:
            query_status(hub.socket, timeout=1)
            return
        except (OSError, ValueError):
            time.sleep(0.2)
    raise AssertionError(f"the hub's status socket never answered:\n{hub.log()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def as_other_user(code: str) -> str:
    """Run Python ``code`` as uid/gid 65534 (nobody); its stdout, stripped.

    The interpreter starts as root (it lives under /root): the modules ``code`` needs
    (os, socket, sys) are imported before it drops to nobody."""
    drop = "import os, socket, sys\nos.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
    out = subprocess.run([sys.executable, "-c", drop + code], capture_output=True, text=True,
                         timeout=30, cwd="/")
    return out.stdout.strip() + out.stderr.strip()[-500:]
