"""Start-up: ``maigic run`` process start -> ``READY=1`` on a NOTIFY_SOCKET we create.

The real entry point (``python -m runtime.cli run``) with the default triggers
(wake word model loaded) in each mode, the capture FIFO fed with silence and the
fake server on 127.0.0.1 for the online modes. READY=1 is sent once the actors run
(audio or not), exactly as systemd would receive it; ``startup_no_audio`` starts
with neither the capture FIFO nor the playback PCM there (the earpiece is off).
"""

from __future__ import annotations

import compileall
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.alsa.alsa_harness import FifoFeeder
from tests.bench.cpulimit import CpuLimit, limited_popen
from tests.bench.harness import RATE, REPO, child_env
from tests.bench.procmem import cpu_seconds, tree_kb
from tests.bench.report import Figure, figure
from tests.e2e.hubtest import write_config
from tests.fakes.openai_server import FakeOpenAIServer

READY_TIMEOUT_S = 60.0
MODES = ("realtime", "chained", "local")
GOAL_READY_S = 0.3  # issue 18 (was 1.5)


class StartupError(RuntimeError):
    pass


@dataclass(frozen=True)
class Started:
    """One start of ``maigic run``: how long to READY=1, what it cost, what it holds."""

    seconds: float  # spawn -> READY=1 (wall clock: depends on the machine's load)
    cpu_s: float  # CPU seconds the hub's processes used up to READY=1 (load-independent)
    rss_kb: dict[int, int]  # VmRSS by pid (the hub first, then its helpers) at READY=1
    settled_kb: dict[int, int]  # VmHWM by pid ``settle_s`` after READY=1 (models loaded)
    cpu_settled_s: float  # CPU seconds of all of them by then


def start_once(mode: str, limit: CpuLimit | None = None, *, audio: bool = True) -> float:
    """Seconds from spawning ``maigic run`` to its READY=1 datagram (``audio=False``: no
    capture or playback device exists)."""
    return start_measured(mode, limit, audio=audio).seconds


def start_measured(mode: str, limit: CpuLimit | None = None, *, audio: bool = True,
                   extra: str = "", settle_s: float = 0.0) -> Started:
    """Start ``maigic run`` (``extra``: YAML over the test config) and measure it to READY=1
    and, with ``settle_s``, that long after (background loads, e.g. the recogniser)."""
    with tempfile.TemporaryDirectory(prefix="maigic-bench-start-") as tmp, \
            FakeOpenAIServer() as server:
        work = Path(tmp)
        away = "" if audio else "audio: {playback: {device: earpiece_away}}\n"
        config = write_config(work, server, f"mode: {mode}\ntriggers: {{button: "
                                            "{enabled: false}}\n" + away + extra)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(work / "notify.sock"))
        sock.settimeout(1.0)
        env = child_env(work / "capture.fifo", work / "played.wav", server.api_key)
        env["NOTIFY_SOCKET"] = str(work / "notify.sock")
        argv = [sys.executable, "-m", "runtime.cli", "--log-level", "WARNING", "run",
                "--config", str(config)]
        log_path = work / "run.log"
        measured: Started | None = None
        try:
            feeder = FifoFeeder(work / ("capture.fifo" if audio else "unused.fifo"),
                                bytes(RATE * 2 * 90), RATE)
            with feeder, log_path.open("wb") as log_file:
                spawned = time.monotonic()
                with limited_popen(argv, limit, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT) as (proc, _how):
                    ready = _wait_ready(sock, proc, spawned)
                    if ready is not None:
                        measured = _measure(proc.pid, ready - spawned, settle_s)
                    proc.terminate()
                    proc.wait(timeout=30)
        finally:
            sock.close()
        if measured is None:
            tail = log_path.read_text(errors="replace")[-1500:]
            raise StartupError(f"maigic run ({mode}) sent no READY=1 (exit {proc.returncode}):"
                               f"\n{tail}")
        return measured


def _measure(pid: int, seconds: float, settle_s: float) -> Started:
    rss = tree_kb(pid, "VmRSS")
    cpu = sum(cpu_seconds(p) for p in rss)
    if settle_s > 0:
        time.sleep(settle_s)  # a measured pause, not a synchronisation
    settled = tree_kb(pid, "VmHWM")
    return Started(seconds, cpu, rss, settled, sum(cpu_seconds(p) for p in settled))


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


def compile_project() -> None:
    """Bytecode for the project's packages, as an installed hub has it (this environment may
    set PYTHONDONTWRITEBYTECODE: then every start would compile the sources again)."""
    for package in ("actors", "drivers", "runtime", "speech_api"):
        compileall.compile_dir(REPO / package, quiet=1)


def run(reps: int) -> tuple[list[Figure], dict[str, object]]:
    compile_project()
    out, errors = [], {}
    for mode in MODES:
        runs: list[Started] = []
        for _ in range(reps):
            try:
                runs.append(start_measured(mode))
            except StartupError as exc:
                errors[mode] = str(exc)
                break
        failed = f"failed: {errors[mode].splitlines()[0]}" if mode in errors else ""
        out.append(figure(f"startup_{mode}", f"start-up to READY=1, {mode} mode",
                          [r.seconds for r in runs], "s", goal_median=GOAL_READY_S,
                          keep_samples=False, note=failed))
        # the load-independent part: what the hub and its helpers computed to get there
        out.append(figure(f"startup_cpu_{mode}", f"CPU to READY=1, {mode} mode",
                          [r.cpu_s for r in runs], "CPU-s", keep_samples=False, note=failed))
    no_audio: list[float] = []
    for _ in range(reps):
        try:
            no_audio.append(start_once("local", audio=False))
        except StartupError as exc:
            errors["no_audio"] = str(exc)
            break
    out.append(figure("startup_no_audio", "start-up to READY=1, local mode, no audio device",
                      no_audio, "s", goal_median=GOAL_READY_S, keep_samples=False,
                      note=f"failed: {errors['no_audio'].splitlines()[0]}"
                      if "no_audio" in errors else ""))
    return out, {"startup_errors": errors, "repo": str(REPO)}
