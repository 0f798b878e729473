"""Resident memory of one process and its descendants, from /proc.

Why not ``resource.getrusage(...).ru_maxrss``: Linux keeps a process's ``maxrss``
across ``fork`` and ``execve``, so a freshly started hub reports the peak of the
benchmark process that spawned it (80 MB of fake server, numpy and flite buffers,
not the hub's). ``VmHWM`` in /proc/PID/status belongs to the process's own address
space, which ``execve`` replaces: it is the hub's own peak.
"""

from __future__ import annotations

from pathlib import Path


def status_kb(pid: int | str, field: str) -> int:
    """``field`` ("VmRSS", "VmHWM") of /proc/PID/status in kB; 0 if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def descendants(pid: int | str) -> list[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    found: list[int] = []
    todo = [str(pid)]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = task.read_text().split()
            except OSError:
                continue
            found.extend(int(k) for k in kids)
            todo.extend(kids)
    return found


def tree_kb(pid: int | str, field: str) -> dict[int, int]:
    """``field`` of ``pid`` and of each of its descendants, by pid."""
    return {p: status_kb(p, field) for p in [int(pid), *descendants(pid)]}


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of ``pid`` so far (0.0 if gone)."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")
