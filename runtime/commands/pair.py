"""``maigic pair``: find, pair, trust and connect a Bluetooth earpiece, then use it.

Steps: scan (unless an address is given), pick the headset, ``bluetoothctl pair/trust/connect``,
wait for bluealsa to offer the hands-free (SCO) PCM, and write that PCM name into the config as
``audio.capture.device`` and ``audio.playback.device`` without touching the file's comments.
Exit codes: 0 paired and HFP works, 1 a step failed (the message says which and what to do),
2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from runtime.commands import system_tools as bt
from runtime.commands.yaml_edit import YamlEditError, update_file
from runtime.config import DEFAULT_CONFIG_PATH

DEVICE_KEYS = ("audio.capture.device", "audio.playback.device")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pair", help="pair a Bluetooth earpiece and write its audio devices into the config"
    )
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="config file (default /etc/maigic/maigic.yaml)")
    parser.add_argument("address", nargs="?", default=None,
                        help="earpiece address like 00:1B:66:AA:BB:CC (default: scan and pick)")
    parser.add_argument("--scan-seconds", type=float, default=20.0,
                        help="how long to scan for devices (default 20)")
    parser.add_argument("--hfp-timeout", type=float, default=15.0,
                        help="seconds to wait for the hands-free audio to appear (default 15)")
    parser.add_argument("--no-write", action="store_true",
                        help="pair and check only; leave the config file alone")
    parser.set_defaults(handler=run_pair)


def _say(text: str) -> None:
    print(text, flush=True)


def _fail(text: str) -> int:
    print(f"maigic pair: {text}", file=sys.stderr, flush=True)
    return 1


def choose_device(scan_seconds: float, ask: Callable[[str], str] = input) -> str | None:
    """Scan, list the devices found (headsets first) and let the user pick one."""
    _say(f"Scanning for {scan_seconds:g} s: put the earpiece in pairing mode now...")
    bt.scan(scan_seconds)
    devices = bt.list_devices()
    infos = [bt.device_info(mac) for mac, _ in devices]
    candidates = [
        (mac, info.name if info else name, bool(info and info.is_headset))
        for (mac, name), info in zip(devices, infos, strict=True)
    ]
    candidates.sort(key=lambda c: not c[2])
    if not candidates:
        return None
    headsets = [c for c in candidates if c[2]]
    if len(headsets) == 1:
        mac, name, _ = headsets[0]
        _say(f"Found headset {name} ({mac})")
        return mac
    for number, (mac, name, is_headset) in enumerate(candidates, 1):
        kind = "headset" if is_headset else "other"
        _say(f"  {number}. {name} ({mac}) [{kind}]")
    answer = ask("Which one is the earpiece? number: ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(candidates):
        raise ValueError(f"expected a number from 1 to {len(candidates)}, found {answer!r}")
    return candidates[int(answer) - 1][0]


def pair_and_connect(mac: str) -> str | None:
    """Pair, trust and connect; None on success, else what went wrong and the fix."""
    info = bt.device_info(mac)
    if info is None or not info.paired:
        result = bt.pair(mac)
        if not result.ok and "AlreadyExists" not in result.output:
            return (f"pairing {mac} failed: {_last_line(result.output)}. Put the earpiece in "
                    "pairing mode (usually: hold the button until the light flashes) and retry")
        _say(f"Paired {mac}")
    if info is None or not info.trusted:
        result = bt.trust(mac)
        if not result.ok:
            return f"trusting {mac} failed: {_last_line(result.output)}"
        _say(f"Trusted {mac} (it will reconnect by itself)")
    result = bt.connect(mac)
    if not result.ok:
        return (f"connecting {mac} failed: {_last_line(result.output)}. Is the earpiece on and "
                "near? Is bluetooth.service running?")
    _say(f"Connected {mac}")
    return None


def wait_for_hfp(mac: str, timeout: float, poll_s: float = 0.5) -> bool:
    """Whether bluealsa offers the earpiece's hands-free PCM within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if bt.sco_pcm_present(mac, bt.bluealsa_pcms()):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def write_devices(config: Path, mac: str) -> bool:
    """Point capture and playback at the earpiece; True if the file changed."""
    pcm = bt.sco_pcm_name(mac)
    return update_file(config, dict.fromkeys(DEVICE_KEYS, pcm))


def run_pair(args: argparse.Namespace) -> int:
    config = Path(getattr(args, "config", None) or DEFAULT_CONFIG_PATH)
    try:
        mac = bt.normalise_mac(args.address) if args.address else choose_device(args.scan_seconds)
        if mac is None:
            return _fail("no Bluetooth devices found: put the earpiece in pairing mode, keep it "
                         "close, and run 'maigic pair' again")
        problem = pair_and_connect(mac)
        if problem:
            return _fail(problem)
        if not wait_for_hfp(mac, args.hfp_timeout):
            return _fail(
                f"{mac} is connected but bluealsa offers no hands-free (SCO) audio for it: "
                "check the bluealsa override is installed (bluealsa must run with -p hfp-ag; "
                "re-run deploy/install.sh), then 'sudo systemctl restart bluealsa' and retry"
            )
        _say(f"Hands-free audio available: {bt.sco_pcm_name(mac)}")
        if args.no_write:
            return 0
        changed = write_devices(config, mac)
    except bt.ToolMissingError as exc:
        return _fail(str(exc))
    except ValueError as exc:
        return _fail(str(exc))
    except (OSError, YamlEditError) as exc:
        return _fail(f"cannot update {config}: {exc} (run with sudo?)")
    _say(f"{'Updated' if changed else 'Already set in'} {config}: audio.capture.device and "
          "audio.playback.device; apply with 'sudo systemctl reload maigic'")
    return 0


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
