"""Run a child process on less CPU: one core (``taskset``-like) and a duty-cycle share.

The share is applied with the best mechanism this machine allows, in order:
cgroup v2 ``cpu.max``, cgroup v1 ``cpu.cfs_quota_us`` (both in a fresh group the
child joins before it runs Python), else a SIGSTOP/SIGCONT duty-cycle limiter
thread in the parent. ``CpuLimit.describe()`` says which one was used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CGROUP2 = Path("/sys/fs/cgroup")
CGROUP1_CPU = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 10_000  # short periods: a throttled hub waits at most a few ms at a time


@dataclass(frozen=True, slots=True)
class CpuLimit:
    core: int | None = None  # pin to this CPU
    share: float | None = None  # fraction of one core, 0 < share <= 1
    use_cgroup: bool = True  # False: always the SIGSTOP/SIGCONT duty cycle

    def describe(self) -> str:
        parts = []
        if self.core is not None:
            parts.append(f"pinned to CPU {self.core}")
        if self.share is not None:
            parts.append(f"{self.share:.0%} of one core")
        return ", ".join(parts) or "no limit"


class _Cgroup:
    """A fresh cgroup with a CPU bandwidth limit (v2 or v1), removed on close."""

    def __init__(self, share: float) -> None:
        quota = max(1000, int(PERIOD_US * share))
        name = f"maigic-bench-{os.getpid()}-{id(self)}"
        if (CGROUP2 / "cgroup.controllers").exists() and "cpu" in \
                (CGROUP2 / "cgroup.subtree_control").read_text():
            self.path = CGROUP2 / name
            self.path.mkdir()
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            self.kind = "cgroup v2 cpu.max"
        else:
            self.path = CGROUP1_CPU / name
            self.path.mkdir()
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
            self.kind = "cgroup v1 cfs quota"
        self.kind += f" {quota} us per {PERIOD_US} us"

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run by a shell that first moves itself into this group, then execs."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *argv]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


class _DutyCycler:
    """SIGCONT for ``share`` of each period, SIGSTOP for the rest (the fallback)."""

    def __init__(self, pid: int, share: float) -> None:
        self.pid, self.share = pid, share
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="duty-cycler", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        period = PERIOD_US / 1e6
        try:
            while not self.stop.is_set():
                os.kill(self.pid, signal.SIGCONT)
                if self.stop.wait(period * self.share):
                    break
                os.kill(self.pid, signal.SIGSTOP)
                self.stop.wait(period * (1 - self.share))
        except ProcessLookupError:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)


@contextlib.contextmanager
def limited_popen(
    argv: list[str], limit: CpuLimit | None, *, env: dict[str, str],
    stdout: IO[bytes] | int, stderr: IO[bytes] | int,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``argv`` under ``limit``; yields the process and how the limit was applied."""
    group: _Cgroup | None = None
    how = "no limit"
    if limit is not None and limit.share is not None and not limit.use_cgroup:
        how = "SIGSTOP/SIGCONT duty cycle"
    elif limit is not None and limit.share is not None:
        try:
            group = _Cgroup(limit.share)
            how = group.kind
        except OSError as exc:
            how = f"SIGSTOP/SIGCONT duty cycle (no writable cgroup: {exc.strerror})"
    core = limit.core if limit is not None else None

    # Wrapping commands (not preexec_fn, unsafe in a threaded parent): the group is
    # joined and the affinity set before the child's Python starts.
    if group is not None:
        argv = group.wrap(argv)
    if core is not None:
        argv = ["taskset", "-c", str(core), *argv]
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr)
    cycler = None
    if limit is not None and limit.share is not None and group is None:
        cycler = _DutyCycler(proc.pid, limit.share)
    if core is not None:
        how = f"pinned to CPU {core}" + ("" if how == "no limit" else f", {how}")
    try:
        yield proc, how
    finally:
        if cycler is not None:
            cycler.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if group is not None:
            group.close()
