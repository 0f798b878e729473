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

FIGURES: dict[str, str] = {}  # what the tests measure (in the process that runs them)


@pytest.fixture(autouse=True)
def _figures_into_reports(request: pytest.FixtureRequest) -> Iterator[None]:
    """Put the figures a test measured into its report: the summary is written by the
    process that ran pytest, which is not this one when the tests run in xdist workers."""
    before = dict(FIGURES)
    yield
    for name, value in FIGURES.items():
        if before.get(name) != value:
            request.node.user_properties.append((f"figure:{name}", value))


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
