"""Bluetooth setup checker against a fake system tree and real tools where they exist."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drivers.bluetooth import (
    HFP_OVERRIDE,
    SystemView,
    bluealsa_exec_start,
    check_setup,
    format_setup,
    pcm_name,
)

REPO = Path(__file__).resolve().parents[2]
DEBIAN_UNIT = """[Unit]
Description=BluezALSA proxy
[Service]
Type=dbus
BusName=org.bluealsa
ExecStart=/usr/bin/bluealsa -p a2dp-source -p a2dp-sink
"""


def make_tree(root: Path, *, dropin: str | None, plugin: bool = True) -> SystemView:
    unit_dir = root / "lib/systemd/system"
    unit_dir.mkdir(parents=True)
    (unit_dir / "bluealsa.service").write_text(DEBIAN_UNIT)
    if dropin is not None:
        d = root / "etc/systemd/system/bluealsa.service.d"
        d.mkdir(parents=True)
        (d / "maigic-hfp.conf").write_text(dropin)
    if plugin:
        lib = root / "usr/lib/aarch64-linux-gnu/alsa-lib"
        lib.mkdir(parents=True)
        (lib / "libasound_module_pcm_bluealsa.so").write_bytes(b"")
    tools = {"bluetoothctl", "bluealsa"}
    return SystemView(root=root, which=lambda name: f"/usr/bin/{name}" if name in tools else None)


def by_name(view: SystemView, user: str = "root") -> dict[str, bool | None]:
    return {c.name: c.ok for c in check_setup(user=user, view=view)}


def test_stock_debian_bluealsa_lacks_hfp_and_says_how_to_fix(tmp_path: Path) -> None:
    view = make_tree(tmp_path, dropin=None)
    checks = check_setup(user="root", view=view)
    hfp = next(c for c in checks if c.name == "hfp enabled")
    assert hfp.ok is False
    assert "a2dp-sink" in hfp.detail
    assert "hfp-ag" in hfp.fix and "daemon-reload" in hfp.fix
    assert "missing hfp enabled" in format_setup(checks)


def test_the_shipped_dropin_enables_hfp(tmp_path: Path) -> None:
    shipped = (REPO / "deploy/bluealsa/maigic-hfp.conf")
    dropin = shipped.read_text() if shipped.exists() else HFP_OVERRIDE
    view = make_tree(tmp_path, dropin=dropin)
    assert bluealsa_exec_start(view) == "/usr/bin/bluealsa -p a2dp-source -p hfp-ag -p hsp-ag"
    results = by_name(view)
    assert results["hfp enabled"] is True
    assert results["bluez"] is True and results["bluez-alsa"] is True
    assert results["alsa plugin"] is True
    assert results["audio group"] in (True, False)  # root: depends on the machine's groups
    assert results["bluetooth running"] is None  # no /run/systemd/system in the fake tree


def test_missing_packages_name_the_apt_package(tmp_path: Path) -> None:
    view = SystemView(root=tmp_path, which=lambda name: None)
    checks = {c.name: c for c in check_setup(user="root", view=view)}
    assert checks["bluez"].fix == "sudo apt-get install bluez"
    assert checks["bluez-alsa"].fix == "sudo apt-get install bluez-alsa-utils"
    assert checks["alsa plugin"].fix == "sudo apt-get install libasound2-plugin-bluez"
    assert checks["hfp enabled"].ok is False


def test_audio_group_membership(tmp_path: Path) -> None:
    view = make_tree(tmp_path, dropin=HFP_OVERRIDE)
    checks = {c.name: c for c in check_setup(user="nobody", view=view)}
    assert checks["audio group"].ok is False
    assert checks["audio group"].fix.startswith("sudo usermod -aG audio nobody")
    unknown = {c.name: c for c in check_setup(user="no-such-user-xyz", view=view)}
    assert unknown["audio group"].ok is None


def test_service_state_comes_from_systemctl(tmp_path: Path) -> None:
    make_tree(tmp_path, dropin=HFP_OVERRIDE)
    (tmp_path / "run/systemd/system").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text('#!/bin/sh\n[ "$2" = "bluetooth.service" ] && echo active || echo inactive\n')
    fake.chmod(0o755)
    env_path = f"{bin_dir}:{os.environ['PATH']}"

    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        result: subprocess.CompletedProcess[str] = subprocess.run(
            args, env={"PATH": env_path}, **kwargs
        )
        return result

    live = SystemView(root=tmp_path, which=lambda n: shutil.which(n, path=env_path), run=run)
    checks = {c.name: c for c in check_setup(user="root", view=live)}
    assert checks["bluetooth running"].ok is True
    assert checks["bluealsa running"].ok is False
    assert "enable --now bluealsa" in checks["bluealsa running"].fix


def test_pcm_names() -> None:
    assert pcm_name("00:1b:66:aa:bb:cc") == "bluealsa:DEV=00:1B:66:AA:BB:CC,PROFILE=sco"
    assert pcm_name("00:1B:66:AA:BB:CC", "a2dp").endswith("PROFILE=a2dp")
    with pytest.raises(ValueError, match="sco"):
        pcm_name("00:1B:66:AA:BB:CC", "hfp")


def test_cli_on_this_machine() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    user = pwd.getpwuid(os.getuid()).pw_name
    result = subprocess.run([sys.executable, "-m", "runtime.cli", "devices", "--bluetooth",
                             "--user", user], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Bluetooth earpiece setup:" in result.stdout
    assert "bluez-alsa" in result.stdout
