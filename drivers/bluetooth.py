"""Check that this machine is set up for a Bluetooth earpiece through bluez-alsa (HFP).

What an earpiece needs (Debian bookworm / Raspberry Pi OS):

1. Packages: ``bluez`` (``bluetoothd``, ``bluetoothctl``), ``bluez-alsa-utils`` (the
   ``bluealsa`` daemon) and ``libasound2-plugin-bluez`` (the ALSA ``bluealsa`` PCM).
2. HFP turned on: Debian's ``bluealsa.service`` starts A2DP only, which has no
   microphone. A drop-in (``deploy/bluealsa/maigic-hfp.conf``, installed by
   ``deploy/install.sh`` as ``/etc/systemd/system/bluealsa.service.d/maigic-hfp.conf``)
   adds ``-p hfp-ag -p hsp-ag``; then ``systemctl daemon-reload`` and restart bluealsa.
3. Permission: bluealsa answers on D-Bus only to members of the ``audio`` group, so
   the hub's user must be in it (``usermod -aG audio maigic``). Otherwise opening the
   PCM fails with a misleading "Cannot allocate memory".
4. Pairing: ``maigic pair`` (which runs ``bluetoothctl scan/pair/trust/connect``) and
   the PCM name ``bluealsa:DEV=<MAC>,PROFILE=sco`` for both capture and playback. HFP
   audio is mono at 8 kHz (CVSD: Debian's build has no mSBC) - the drivers resample.

:func:`check_setup` checks 1-3 (and whether the services run, where systemd does) and
says what is missing and how to fix it; ``maigic devices --bluetooth`` prints it.
The per-earpiece part (paired? connected? SCO PCM present?) is ``maigic doctor``'s.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HFP_DROPIN = "/etc/systemd/system/bluealsa.service.d/maigic-hfp.conf"
HFP_OVERRIDE = """[Service]
ExecStart=
ExecStart=/usr/bin/bluealsa -p a2dp-source -p hfp-ag -p hsp-ag
"""
PLUGIN_GLOBS = ("usr/lib/*/alsa-lib/libasound_module_pcm_bluealsa.so",
                "usr/lib/alsa-lib/libasound_module_pcm_bluealsa.so")
UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "lib/systemd/system",
             "usr/lib/systemd/system")


@dataclass(frozen=True)
class SetupCheck:
    name: str
    ok: bool | None  # None: could not tell (e.g. systemd is not running here)
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class SystemView:
    """Where to look: the real system by default, a fake tree in tests."""

    root: Path = Path("/")
    which: Callable[[str], str | None] = shutil.which
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run


def pcm_name(mac: str, profile: str = "sco") -> str:
    """The ALSA PCM of an earpiece: ``sco`` = microphone + speaker, ``a2dp`` = speaker only."""
    if profile not in ("sco", "a2dp"):
        raise ValueError(f"bluealsa profile must be 'sco' or 'a2dp', got {profile!r}")
    return f"bluealsa:DEV={mac.upper()},PROFILE={profile}"


def bluealsa_exec_start(view: SystemView) -> str | None:
    """The ExecStart systemd would use for bluealsa.service (drop-ins applied), if any."""
    unit: Path | None = None
    for unit_dir in UNIT_DIRS:
        candidate = view.root / unit_dir / "bluealsa.service"
        if candidate.is_file():
            unit = candidate
            break
    if unit is None:
        return None
    files = [unit]
    for unit_dir in reversed(UNIT_DIRS):  # later directories override earlier ones
        dropins = view.root / unit_dir / "bluealsa.service.d"
        if dropins.is_dir():
            files.extend(sorted(dropins.glob("*.conf")))
    command: str | None = None
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key.strip() == "ExecStart":
                command = value.strip() or None  # an empty ExecStart= resets the list
    return command


def _user_in_group(user: str, group: str) -> bool | None:
    try:
        members = grp.getgrnam(group)
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return user in members.gr_mem or entry.pw_gid == members.gr_gid


def _package_check(name: str, present: bool, what: str, package: str) -> SetupCheck:
    return SetupCheck(name, present, what if present else f"{what}: missing",
                      "" if present else f"sudo apt-get install {package}")


def _service_check(view: SystemView, service: str) -> SetupCheck:
    name = f"{service} running"
    if not (view.root / "run/systemd/system").is_dir() or view.which("systemctl") is None:
        return SetupCheck(name, None, "systemd is not running here; cannot tell")
    try:
        result = view.run(["systemctl", "is-active", f"{service}.service"],
                          capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SetupCheck(name, None, f"systemctl failed: {exc}")
    state = str(result.stdout).strip() or "unknown"
    ok = state == "active"
    return SetupCheck(name, ok, f"{service}.service is {state}",
                      "" if ok else f"sudo systemctl enable --now {service}.service")


def check_setup(user: str | None = None, view: SystemView | None = None) -> list[SetupCheck]:
    """Everything the system needs for an HFP earpiece, each with a fix if it is missing."""
    view = view or SystemView()
    user = user or pwd.getpwuid(os.getuid()).pw_name
    plugin = any(any(view.root.glob(pattern)) for pattern in PLUGIN_GLOBS)
    checks = [
        _package_check("bluez", view.which("bluetoothctl") is not None,
                       "BlueZ (bluetoothctl)", "bluez"),
        _package_check("bluez-alsa", view.which("bluealsa") is not None,
                       "bluealsa daemon", "bluez-alsa-utils"),
        _package_check("alsa plugin", plugin, "ALSA bluealsa PCM plugin",
                       "libasound2-plugin-bluez"),
    ]
    exec_start = bluealsa_exec_start(view)
    if exec_start is None:
        checks.append(SetupCheck("hfp enabled", False, "bluealsa.service not found",
                                 "sudo apt-get install bluez-alsa-utils"))
    else:
        hfp = "hfp-ag" in exec_start.split()
        checks.append(SetupCheck(
            "hfp enabled", hfp, f"bluealsa starts as: {exec_start}",
            "" if hfp else (f"install {HFP_DROPIN} (deploy/install.sh does) containing:\n"
                            f"{HFP_OVERRIDE}then: sudo systemctl daemon-reload && "
                            "sudo systemctl restart bluealsa"),
        ))
    in_audio = _user_in_group(user, "audio")
    checks.append(SetupCheck(
        "audio group", in_audio,
        {True: f"{user} is in group audio", False: f"{user} is not in group audio",
         None: f"user {user} or group audio does not exist"}[in_audio],
        "" if in_audio else f"sudo usermod -aG audio {user} (then log in again / restart)",
    ))
    checks.append(_service_check(view, "bluetooth"))
    checks.append(_service_check(view, "bluealsa"))
    return checks


def format_setup(checks: list[SetupCheck]) -> str:
    marks = {True: "ok  ", False: "FAIL", None: "?   "}
    lines = []
    for check in checks:
        lines.append(f"[{marks[check.ok]}] {check.name}: {check.detail}")
        if check.fix:
            lines.extend(f"        fix: {line}" if i == 0 else f"             {line}"
                         for i, line in enumerate(check.fix.splitlines()))
    failed = [c.name for c in checks if c.ok is False]
    lines.append("Bluetooth earpiece setup: " + (
        f"missing {', '.join(failed)}" if failed else "looks complete; pair with 'maigic pair'"))
    return "\n".join(lines)
