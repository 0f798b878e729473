"""Start-up: ``maigic run`` process start -> ``READY=1`` on a NOTIFY_SOCKET we create.

The real entry point (``python -m runtime.cli run``) with the default triggers
(wake word model loaded) in each mode, the capture FIFO fed with silence and the
fake server on 127.0.0.1 for the online modes. READY=1 is sent once the actors run
(audio or not), exactly as systemd would receive it; ``startup_no_audio`` starts
with neither the capture FIFO nor the playback PCM there (the earpiece is off).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.alsa.alsa_harness import FifoFeeder
from tests.bench.cpulimit import CpuLimit, limited_popen
from tests.bench.harness import RATE, REPO, child_env
from tests.bench.report import Figure, figure
from tests.e2e.hubtest import write_config
from tests.fakes.openai_server import FakeOpenAIServer

READY_TIMEOUT_S = 60.0
MODES = ("realtime", "chained", "local")


class StartupError(RuntimeError):
    pass


def start_once(mode: str, limit: CpuLimit | None = None, *, audio: bool = True) -> float:
    """Seconds from spawning ``maigic run`` to its READY=1 datagram (``audio=False``: no
    capture or playback device exists)."""
    with tempfile.TemporaryDirectory(prefix="maigic-bench-start-") as tmp, \
            FakeOpenAIServer() as server:
        work = Path(tmp)
        away = "" if audio else "audio: {playback: {device: earpiece_away}}\n"
        config = write_config(work, server, f"mode: {mode}\ntriggers: {{button: "
                                            "{enabled: false}}\n" + away)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(work / "notify.sock"))
        sock.settimeout(1.0)
        env = child_env(work / "capture.fifo", work / "played.wav", server.api_key)
        env["NOTIFY_SOCKET"] = str(work / "notify.sock")
        argv = [sys.executable, "-m", "runtime.cli", "--log-level", "WARNING", "run",
                "--config", str(config)]
        log_path = work / "run.log"
        try:
            feeder = FifoFeeder(work / ("capture.fifo" if audio else "unused.fifo"),
                                bytes(RATE * 2 * 90), RATE)
            with feeder, log_path.open("wb") as log_file:
                spawned = time.monotonic()
                with limited_popen(argv, limit, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT) as (proc, _how):
                    ready = _wait_ready(sock, proc, spawned)
                    proc.terminate()
                    proc.wait(timeout=30)
        finally:
            sock.close()
        if ready is None:
            tail = log_path.read_text(errors="replace")[-1500:]
            raise StartupError(f"maigic run ({mode}) sent no READY=1 (exit {proc.returncode}):"
                               f"\n{tail}")
        return ready - spawned


def _wait_ready(sock: socket.socket, proc: subprocess.Popen[bytes],
                spawned: float) -> float | None:
    while time.monotonic() - spawned < READY_TIMEOUT_S:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            if proc.poll() is not None:
                return None
            continue
        if b"READY=1" in data.split(b"\n"):
            return time.monotonic()
    return None


def run(reps: int) -> tuple[list[Figure], dict[str, object]]:
    out, errors = [], {}
    for mode in MODES:
        times: list[float] = []
        for _ in range(reps):
            try:
                times.append(start_once(mode))
            except StartupError as exc:
                errors[mode] = str(exc)
                break
        out.append(figure(f"startup_{mode}", f"start-up to READY=1, {mode} mode", times, "s",
                          goal_median=1.5, keep_samples=False,
                          note=f"failed: {errors[mode].splitlines()[0]}" if mode in errors
                          else ""))
    no_audio: list[float] = []
    for _ in range(reps):
        try:
            no_audio.append(start_once("local", audio=False))
        except StartupError as exc:
            errors["no_audio"] = str(exc)
            break
    out.append(figure("startup_no_audio", "start-up to READY=1, local mode, no audio device",
                      no_audio, "s", goal_median=1.5, keep_samples=False,
                      note=f"failed: {errors['no_audio'].splitlines()[0]}"
                      if "no_audio" in errors else ""))
    return out, {"startup_errors": errors, "repo": str(REPO)}
