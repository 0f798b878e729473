"""The CPU limiter really limits: a busy child gets about its share of one core."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.bench.cpulimit import CGROUP1_CPU, CGROUP2, CpuLimit, limited_popen

BUSY = """
import os, time
end = time.monotonic() + 1.5
while time.monotonic() < end:
    pass
print(time.process_time(), sorted(os.sched_getaffinity(0)))
"""


def _busy_share(limit: CpuLimit) -> tuple[float, list[int], str]:
    with limited_popen([sys.executable, "-c", BUSY], limit, env=dict(os.environ),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE) as (proc, how):
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    cpu, cores = out.decode().split(" ", 1)
    return float(cpu) / 1.5, [int(c) for c in cores.strip("[]\n").split(",")], how


def _cgroup_writable() -> bool:
    return os.access(CGROUP2, os.W_OK) or os.access(CGROUP1_CPU, os.W_OK)


@pytest.mark.parametrize("use_cgroup", [True, False], ids=["cgroup", "signals"])
def test_a_busy_child_gets_about_its_share_on_one_core(use_cgroup: bool) -> None:
    share, cores, how = _busy_share(CpuLimit(core=0, share=0.25, use_cgroup=use_cgroup))
    assert cores == [0]
    assert "pinned to CPU 0" in how
    expected = "cgroup" if use_cgroup and _cgroup_writable() else "SIGSTOP/SIGCONT"
    assert expected in how
    # 25 % asked; generous bounds (a shared machine may give less, never much more)
    assert 0.02 < share < 0.45, f"busy child used {share:.0%} of a core under a 25 % limit"
