"""The shipped systemd unit, checked by systemd's own analyzer.

``systemd-analyze verify`` fails when ExecStart's binary is missing (it is /opt/maigic/venv/...,
which exists only on an installed Pi), so it verifies a copy whose ExecStart points at a stub in a
temp dir; every other line is the shipped file, byte for byte. Unknown keys and bad values are
only warnings on stderr (exit 0), hence the empty-stderr requirement.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.deploy.conftest import write_script

SHIPPED_EXEC = "/opt/maigic/venv/bin/maigic"


def analyze(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "apt-get install systemd"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, **(env or {})})


def unit_lines(text: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit, repeated keys kept in order."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def stubbed_unit(repo: Path, tmp_path: Path) -> Path:
    shipped = (repo / "deploy/systemd/maigic.service").read_text()
    assert shipped.count(SHIPPED_EXEC) == 1
    stub = write_script(tmp_path / "bin/maigic", "exit 0\n")
    unit = tmp_path / "units/maigic.service"
    unit.parent.mkdir()
    unit.write_text(shipped.replace(SHIPPED_EXEC, str(stub)))
    dropins = unit.parent / "maigic.service.d"
    dropins.mkdir()
    shutil.copy(repo / "deploy/systemd/maigic-gpio.conf", dropins / "10-gpio.conf")
    return unit


def test_verify_is_clean_with_the_gpio_dropin(repo: Path, tmp_path: Path) -> None:
    unit = stubbed_unit(repo, tmp_path)
    # the unit's directory on the search path makes systemd load the drop-in too
    result = analyze("verify", str(unit), env={"SYSTEMD_UNIT_PATH": f"{unit.parent}:"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a typo'd key is reported on stderr."""
    stub = write_script(tmp_path / "stub", "exit 0\n")
    unit = tmp_path / "broken.service"
    unit.write_text(f"[Service]\nExecStart={stub}\nRestrat=always\n")
    result = analyze("verify", str(unit))
    assert "Unknown key 'Restrat'" in result.stderr


def test_security_exposure_is_at_most_2(repo: Path, tmp_path: Path) -> None:
    unit = stubbed_unit(repo, tmp_path)
    result = analyze("security", "--offline=true", "--threshold=20", str(unit))
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"Overall exposure level for maigic\.service: (\d+\.\d)", result.stdout)
    assert match is not None, result.stdout
    assert float(match.group(1)) <= 2.0


def test_unit_keeps_what_the_hub_needs(repo: Path) -> None:
    keys = unit_lines((repo / "deploy/systemd/maigic.service").read_text())
    assert keys["Type"] == ["notify"]
    assert keys["ExecStart"] == [f"{SHIPPED_EXEC} run --config /etc/maigic/maigic.yaml"]
    assert keys["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert keys["Restart"] == ["on-failure"]
    assert int(keys["WatchdogSec"][0]) >= 10
    assert keys["StartLimitBurst"] and keys["StartLimitIntervalSec"]
    assert keys["User"] == ["maigic"]
    assert keys["SupplementaryGroups"] == ["audio bluetooth"]
    for directory in ("ConfigurationDirectory", "StateDirectory", "RuntimeDirectory"):
        assert keys[directory] == ["maigic"]
    assert keys["RuntimeDirectoryMode"] == ["0700"]  # the status socket is owner-only
    assert keys["DevicePolicy"] == ["closed"]
    assert set(keys["DeviceAllow"]) == {"char-alsa rw", "char-gpiochip rw"}
    families = set(keys["RestrictAddressFamilies"][0].split())
    assert {"AF_UNIX", "AF_INET", "AF_INET6", "AF_BLUETOOTH"} <= families
    assert keys["CapabilityBoundingSet"] == [""]
    assert keys["ProtectSystem"] == ["strict"]
    # lgpio writes notification files to its working directory: must be writable state
    assert keys["WorkingDirectory"] == ["/var/lib/maigic"]


def test_bluealsa_override_enables_the_hands_free_profiles(repo: Path) -> None:
    keys = unit_lines((repo / "deploy/bluealsa/maigic-hfp.conf").read_text())
    # an override must clear ExecStart before setting it again
    assert keys["ExecStart"][0] == ""
    command = keys["ExecStart"][1].split()
    assert command[0] == "/usr/bin/bluealsa"
    profiles = {command[i + 1] for i, arg in enumerate(command) if arg == "-p"}
    assert {"hfp-ag", "hsp-ag", "a2dp-source"} <= profiles
