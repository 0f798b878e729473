"""``maigic devices``: list capture and playback PCMs, what they accept, and earpieces."""

from __future__ import annotations

import argparse
import dataclasses
import json

from drivers.bluetooth import check_setup, format_setup
from drivers.devices import discover, format_report


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "devices", help="list sound devices (ALSA PCMs and bluealsa earpieces)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--no-probe", action="store_true", help="only list names; do not open the devices"
    )
    parser.add_argument(
        "--bluetooth", action="store_true",
        help="check the Bluetooth earpiece setup (packages, HFP, audio group, services)",
    )
    parser.add_argument("--user", default=None,
                        help="with --bluetooth: the user the hub runs as (default: you)")
    parser.set_defaults(handler=run_devices)


def run_devices(args: argparse.Namespace) -> int:
    if args.bluetooth:
        print(format_setup(check_setup(user=args.user)))
        return 0
    report = discover(probe=not args.no_probe)
    if args.json:
        payload = {
            "capture": [dataclasses.asdict(d) for d in report.capture],
            "playback": [dataclasses.asdict(d) for d in report.playback],
            "notes": report.notes,
        }
        print(json.dumps(payload, indent=2))
    else:
        print(format_report(report))
    return 0  # an empty machine is a finding, not a failure: the notes say what to do
