"""Thin wrappers over the system programs ``maigic doctor`` and ``maigic pair`` ask.

bluetoothctl (BlueZ), bluealsa-aplay (bluez-alsa), systemctl and timedatectl are run as
subprocesses with a timeout each, so a wedged daemon can never hang the CLI, and so tests can
put fake programs first on ``PATH``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

MAC_RE = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
_DEVICE_LINE = re.compile(r"^Device\s+([0-9A-Fa-f:]{17})\s*(.*)$")
_BLUEALSA_DEV = re.compile(r"DEV=([0-9A-Fa-f:]{17})")
# colour codes and readline prompt markers bluetoothctl writes even into a pipe
_TERMINAL_NOISE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x01\x02]")


class ToolMissingError(Exception):
    """A system program is not installed (or not on PATH)."""

    def __init__(self, program: str, package: str) -> None:
        super().__init__(f"'{program}' not found; install it with: sudo apt-get install {package}")
        self.program = program


@dataclass(frozen=True, slots=True)
class ToolResult:
    returncode: int
    output: str  # stdout and stderr together: bluetoothctl mixes them

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_tool(args: list[str], *, package: str, timeout: float = 10.0) -> ToolResult:
    """Run ``args`` with a deadline; a timeout is reported as returncode 124 like timeout(1)."""
    program = shutil.which(args[0])
    if program is None:
        raise ToolMissingError(args[0], package)
    try:
        done = subprocess.run(
            [program, *args[1:]], capture_output=True, text=True, timeout=timeout,
            check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout if isinstance(exc.stdout, str) else ""
        return ToolResult(124, partial + f"\n(timed out after {timeout:g} s)")
    return ToolResult(done.returncode, _TERMINAL_NOISE.sub("", done.stdout + done.stderr))


def normalise_mac(text: str) -> str:
    """``aa-bb-...`` or ``aa:bb:...`` -> ``AA:BB:...``; ValueError names the expected form."""
    mac = text.strip().upper().replace("-", ":")
    if not MAC_RE.match(mac):
        raise ValueError(f"expected a Bluetooth address like 00:1B:66:AA:BB:CC, found {text!r}")
    return mac


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    mac: str
    name: str
    paired: bool
    trusted: bool
    connected: bool
    is_headset: bool  # offers the hands-free or headset profile (a microphone over Bluetooth)


def _bluetoothctl(*args: str, timeout: float = 15.0) -> ToolResult:
    return run_tool(["bluetoothctl", *args], package="bluez", timeout=timeout)


def scan(seconds: float) -> ToolResult:
    """Discover devices for ``seconds`` (bluetoothctl prints what it finds)."""
    return _bluetoothctl("--timeout", f"{seconds:g}", "scan", "on", timeout=seconds + 10)


def list_devices() -> list[tuple[str, str]]:
    """Known devices as (MAC, name), from ``bluetoothctl devices``."""
    found = []
    for line in _bluetoothctl("devices").output.splitlines():
        match = _DEVICE_LINE.match(line.strip())
        if match:
            found.append((match.group(1).upper(), match.group(2).strip()))
    return found


def device_info(mac: str) -> DeviceInfo | None:
    """``bluetoothctl info MAC`` parsed; None when BlueZ does not know the device."""
    result = _bluetoothctl("info", mac)
    if not result.ok or "Device " not in result.output:
        return None
    fields: dict[str, str] = {}
    uuids = []
    for line in result.output.splitlines():
        key, sep, value = line.strip().partition(":")
        if not sep:
            continue
        if key == "UUID":
            uuids.append(value.strip())
        fields.setdefault(key, value.strip())
    headset_words = ("Handsfree", "Headset")
    return DeviceInfo(
        mac=mac,
        name=fields.get("Name") or fields.get("Alias") or mac,
        paired=fields.get("Paired") == "yes",
        trusted=fields.get("Trusted") == "yes",
        connected=fields.get("Connected") == "yes",
        is_headset=fields.get("Icon", "").startswith("audio-head")
        or any(word in u for u in uuids for word in headset_words),
    )


def pair(mac: str, timeout: float = 30.0) -> ToolResult:
    return _bluetoothctl("pair", mac, timeout=timeout)


def trust(mac: str) -> ToolResult:
    return _bluetoothctl("trust", mac)


def connect(mac: str, timeout: float = 20.0) -> ToolResult:
    return _bluetoothctl("connect", mac, timeout=timeout)


def bluealsa_pcms() -> list[str]:
    """The PCM names bluealsa offers now (``bluealsa-aplay -L``), one per line."""
    result = run_tool(["bluealsa-aplay", "-L"], package="bluez-alsa-utils", timeout=5.0)
    return [line.strip() for line in result.output.splitlines() if line.startswith("bluealsa:")]


def sco_pcm_present(mac: str, pcms: list[str]) -> bool:
    """Whether bluealsa has a hands-free (SCO: microphone + speaker) PCM for ``mac``."""
    return any(f"DEV={mac}" in p.upper() and "PROFILE=SCO" in p.upper() for p in pcms)


def bluealsa_mac(device: str) -> str | None:
    """The earpiece address in an ALSA PCM name such as ``bluealsa:DEV=XX:..,PROFILE=sco``."""
    if not device.startswith("bluealsa"):
        return None
    match = _BLUEALSA_DEV.search(device)
    return match.group(1).upper() if match else None


def sco_pcm_name(mac: str) -> str:
    """The ALSA PCM name for the earpiece's hands-free (mic + speaker) audio."""
    return f"bluealsa:DEV={mac},PROFILE=sco"
