"""System tests: the installer and the unit under a real systemd in a Debian bookworm container.

Each test's outcome and duration, and the figures the tests measure, are printed as a table at
the end of the run and saved to /var/cache/maigic-system-test/summary-<arch>.txt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system.machine import CACHE_DIR, REPO, Machine, booted

ARCH = "amd64"
# How long the watchdog must hold with no restart: 2 minutes by hand; 65 s in CI (CI=true),
# which keeps the whole CI run in budget and still spans two WatchdogSec=30 s periods, so a
# hub that stopped pinging would be restarted inside it. MAIGIC_SYSTEM_WATCHDOG_S overrides.
WATCHDOG_HOLD_S = float(os.environ.get("MAIGIC_SYSTEM_WATCHDOG_S")
                        or ("65" if os.environ.get("CI") else "120"))

_rows: list[tuple[str, str, float]] = []
FIGURES: dict[str, str] = {}  # what the tests measure (in the process that runs them)
_reported: dict[str, str] = {}  # the figures as reports brought them (also from xdist workers)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # one worker runs them all: they share one booted machine (pytest -n N --dist loadgroup)
    for item in items:
        if "tests/system/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.xdist_group("system"))


@pytest.fixture(autouse=True)
def _figures_into_reports(request: pytest.FixtureRequest) -> Iterator[None]:
    """Put the figures a test measured into its report, so the summary sees them when the
    test ran in a pytest-xdist worker."""
    before = dict(FIGURES)
    yield
    for name, value in FIGURES.items():
        if before.get(name) != value:
            request.node.user_properties.append((f"figure:{name}", value))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/system/" not in report.nodeid.replace("\\", "/"):
        return
    for name, value in report.user_properties:
        if name.startswith("figure:"):
            _reported[name.removeprefix("figure:")] = str(value)
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        name = report.nodeid.split("::")[-1].removeprefix("test_")
        _rows.append((name, report.outcome, report.duration))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _rows:
        return
    width = max(len(r[0]) for r in _rows)
    lines = [f"{'check':<{width}}  {'result':<7}  seconds", "-" * (width + 18)]
    lines += [f"{name:<{width}}  {outcome:<7}  {seconds:7.1f}" for name, outcome, seconds in _rows]
    if _reported:
        lines += ["", "figures:"] + [f"  {k}: {v}" for k, v in _reported.items()]
    text = "\n".join(lines) + "\n"
    terminalreporter.write_sep("=", f"system tests ({ARCH}, real systemd in systemd-nspawn)")
    terminalreporter.write(text)
    with_context = f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load " \
        f"{os.getloadavg()[0]:.2f}\n" + text
    try:
        (CACHE_DIR / f"summary-{ARCH}.txt").write_text(with_context)
    except OSError as exc:
        terminalreporter.write_line(f"(summary not saved: {exc})")


def copy_checkout(root: Path, dest: str) -> None:
    """The checkout as a user would have cloned it (no venv, caches or VCS data)."""
    skip = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
            ".hypothesis", "build"}
    target = root / dest.lstrip("/")
    target.mkdir(parents=True, exist_ok=True)
    archive = target.parent / "checkout.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(REPO, arcname=".", filter=lambda i: None if set(Path(i.name).parts) & skip
                else i)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="tar")
    archive.unlink()


def missing_tools() -> list[str]:
    return [t for t in ("debootstrap", "systemd-nspawn", "nsenter") if shutil.which(t) is None]


@pytest.fixture(scope="session")
def machine() -> Iterator[Machine]:
    """A booted bookworm container with the fake sound card and the checkout in /root."""
    if os.geteuid() != 0:
        pytest.skip("the system tests boot a container: they need root (CI runs as root)")
    assert not missing_tools(), f"missing {missing_tools()}: run scripts/setup.sh"
    started = time.monotonic()
    log = CACHE_DIR / f"build-{ARCH}.log"
    with booted(ARCH, "maigic-systest", fake_sound=True, log=log) as booted_machine:
        FIGURES["rootfs ready + boot"] = f"{time.monotonic() - started:.1f} s"
        copy_checkout(booted_machine.root, "/root/maigic-hub")
        yield booted_machine


def journal(machine: Machine, since: str) -> str:
    return machine.run(f"journalctl -u maigic --no-pager -o cat --since '{since}'").stdout


def now_inside(machine: Machine) -> str:
    return machine.run("date '+%Y-%m-%d %H:%M:%S'", check=True).stdout.strip()


def run_cli_as(machine: Machine, user: str | None, args: str) -> subprocess.CompletedProcess[str]:
    result = machine.run(f"cd /tmp && maigic {args}", user=user, timeout=120)
    return subprocess.CompletedProcess(args, result.returncode, result.stdout, result.stderr)
