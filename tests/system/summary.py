"""The system tests' summary table: each check's outcome and duration, and the figures
they measured, printed at the end of the run and saved beside the cached rootfs.

These hooks run in the process that runs pytest, which with pytest-xdist is not the
worker that ran the tests: the reports bring the outcomes and (as ``figure:`` user
properties, see ``tests/system/conftest.py``) the figures. ``tests/conftest.py`` loads
this module, because a worker-only conftest is never imported by that process.
"""

from __future__ import annotations

import os
import time

import pytest

ARCH = "amd64"
_rows: list[tuple[str, str, float]] = []
_figures: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/system/" not in report.nodeid.replace("\\", "/"):
        return
    for name, value in report.user_properties:
        if name.startswith("figure:"):
            _figures[name.removeprefix("figure:")] = str(value)
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        name = report.nodeid.split("::")[-1].split("@")[0].removeprefix("test_")
        _rows.append((name, report.outcome, report.duration))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.system.machine import CACHE_DIR

    if not _rows:
        return
    width = max(len(r[0]) for r in _rows)
    lines = [f"{'check':<{width}}  {'result':<7}  seconds", "-" * (width + 18)]
    lines += [f"{name:<{width}}  {outcome:<7}  {seconds:7.1f}" for name, outcome, seconds in _rows]
    if _figures:
        lines += ["", "figures:"] + [f"  {k}: {v}" for k, v in _figures.items()]
    text = "\n".join(lines) + "\n"
    terminalreporter.write_sep("=", f"system tests ({ARCH}, real systemd in systemd-nspawn)")
    terminalreporter.write(text)
    with_context = f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load " \
        f"{os.getloadavg()[0]:.2f}\n" + text
    try:
        (CACHE_DIR / f"summary-{ARCH}.txt").write_text(with_context)
    except OSError as exc:
        terminalreporter.write_line(f"(summary not saved: {exc})")
