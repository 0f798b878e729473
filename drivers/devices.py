"""Discover ALSA capture and playback PCMs, what they accept, and bluealsa earpieces.

Probing opens each PCM in non-blocking mode with the hub's format and reads back
what was granted. It deliberately avoids pyalsaaudio's ``getrates()`` and
``getchannels()``: on plugins with open-ended ranges (``null``: 1..4294967295
channels) they loop for minutes. Each probe runs on a daemon thread with a
deadline so one wedged driver cannot hang ``maigic devices``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.alsa_pcm import alsa_error_types, explain_alsa_error

PROBE_TIMEOUT_S = 3.0
BLUEALSA_LIST_TIMEOUT_S = 3.0
PROBE_RATE = 16000
NOT_DEVICES = {"null"}  # listed by ALSA, but it discards audio / captures garbage
_BLUEALSA_LINE = re.compile(r"^(bluealsa:\S*DEV=(?P<mac>[0-9A-Fa-f:]{17})\S*)")


@dataclass(frozen=True)
class DeviceInfo:
    """One PCM in one direction and what probing it found."""

    name: str
    direction: str  # "capture" or "playback"
    description: str = ""
    bluetooth_profile: str | None = None  # "sco" (HFP/HSP) or "a2dp" for bluealsa PCMs
    opened: bool = False
    rate_range: tuple[int, int] | None = None
    channels: tuple[int, ...] = ()
    error: str | None = None

    @property
    def is_bluetooth(self) -> bool:
        return self.name.startswith("bluealsa")

    @property
    def usable(self) -> bool:
        return self.opened and bool(self.channels)


@dataclass
class DeviceReport:
    capture: list[DeviceInfo] = field(default_factory=list)
    playback: list[DeviceInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return any(d.usable for d in self.capture) and any(d.usable for d in self.playback)


def bluetooth_profile(name: str) -> str | None:
    match = re.search(r"PROFILE=(\w+)", name)
    if match:
        return match.group(1).lower()
    return "a2dp" if name.startswith("bluealsa") else None


def list_bluealsa_pcms(run: Callable[..., Any] = subprocess.run) -> list[tuple[str, str]]:
    """(PCM name, description) of connected earpieces, from ``bluealsa-aplay -L``."""
    exe = shutil.which("bluealsa-aplay")
    if exe is None:
        return []
    try:
        result = run([exe, "-L"], capture_output=True, text=True,
                     timeout=BLUEALSA_LIST_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    found: list[tuple[str, str]] = []
    for line in str(result.stdout).splitlines():
        match = _BLUEALSA_LINE.match(line)
        if match:
            found.append((match.group(1), ""))
        elif found and line.startswith((" ", "\t")) and not found[-1][1]:
            found[-1] = (found[-1][0], line.strip())
    return found


def probe_pcm(name: str, direction: str, description: str = "") -> DeviceInfo:
    """Open ``name`` non-blocking with 1 and 2 channels and note what it granted."""
    import alsaaudio

    pcm_type = alsaaudio.PCM_CAPTURE if direction == "capture" else alsaaudio.PCM_PLAYBACK
    channels: list[int] = []
    rate_range: tuple[int, int] | None = None
    error: str | None = None
    for wanted in (1, 2):
        try:
            pcm = alsaaudio.PCM(type=pcm_type, mode=alsaaudio.PCM_NONBLOCK, device=name,
                                rate=PROBE_RATE, channels=wanted,
                                format=alsaaudio.PCM_FORMAT_S16_LE, periodsize=320, periods=4)
        except alsa_error_types() as exc:
            error = error or explain_alsa_error(name, exc)
            continue
        try:
            if int(pcm.info().get("channels", 0)) == wanted:
                channels.append(wanted)
            if rate_range is None:
                low, high = pcm.getratebounds()
                rate_range = (int(low), int(high))
        except alsa_error_types() as exc:
            error = error or explain_alsa_error(name, exc)
        finally:
            pcm.close()
    return DeviceInfo(
        name=name, direction=direction, description=description,
        bluetooth_profile=bluetooth_profile(name), opened=bool(channels),
        rate_range=rate_range, channels=tuple(channels), error=None if channels else error,
    )


def _probe_with_deadline(name: str, direction: str, description: str) -> DeviceInfo:
    box: list[DeviceInfo] = []
    thread = threading.Thread(target=lambda: box.append(probe_pcm(name, direction, description)),
                              name=f"probe-{name}", daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S)
    if box:
        return box[0]
    return DeviceInfo(name=name, direction=direction, description=description,
                      bluetooth_profile=bluetooth_profile(name),
                      error=f"probe did not finish within {PROBE_TIMEOUT_S:.0f} s")


def discover(probe: bool = True) -> DeviceReport:
    """Every capture and playback PCM ALSA knows, plus connected bluealsa earpieces."""
    import alsaaudio

    report = DeviceReport()
    bluealsa = list_bluealsa_pcms()
    for direction, pcm_type, target in (
        ("capture", alsaaudio.PCM_CAPTURE, report.capture),
        ("playback", alsaaudio.PCM_PLAYBACK, report.playback),
    ):
        names = [(n, "") for n in alsaaudio.pcms(pcm_type) if n not in NOT_DEVICES]
        for bt_name, desc in bluealsa:
            a2dp_capture = direction == "capture" and bluetooth_profile(bt_name) == "a2dp"
            if not a2dp_capture and bt_name not in {n for n, _ in names}:
                names.append((bt_name, desc))
        for name, desc in names:
            target.append(
                _probe_with_deadline(name, direction, desc) if probe
                else DeviceInfo(name, direction, desc, bluetooth_profile(name))
            )
    if not report.capture and not report.playback:
        report.notes.append(
            "No sound devices found: no sound card, and no bluealsa earpiece connected. "
            "Check `aplay -l`, that this user is in the 'audio' group, and for an earpiece "
            "`maigic pair` / `maigic doctor`."
        )
    elif probe and not report.usable:
        report.notes.append(
            "No device opened in both directions; the hub needs a microphone and a speaker "
            "(an HFP earpiece gives both: bluealsa:DEV=<MAC>,PROFILE=sco)."
        )
    if probe and not bluealsa and shutil.which("bluealsa-aplay") is None:
        report.notes.append("bluez-alsa is not installed: Bluetooth earpieces will not appear.")
    return report


def format_report(report: DeviceReport) -> str:
    """Human-readable listing for ``maigic devices``."""
    lines: list[str] = []
    for title, devices in (("Capture", report.capture), ("Playback", report.playback)):
        lines.append(f"{title} devices:")
        if not devices:
            lines.append("  (none found)")
        for d in devices:
            lines.append(f"  {d.name}" + (f"  - {d.description}" if d.description else ""))
            details = []
            if d.bluetooth_profile:
                details.append(f"bluetooth {d.bluetooth_profile.upper()}")
            if d.usable:
                details.append("channels " + "/".join(map(str, d.channels)))
                if d.rate_range:
                    details.append(f"rates {d.rate_range[0]}-{d.rate_range[1]} Hz")
            elif d.error:
                details.append(f"cannot open: {d.error}")
            if details:
                lines.append("      " + ", ".join(details))
    lines.extend(report.notes)
    return "\n".join(lines)
