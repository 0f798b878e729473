"""``maigic devices``: list capture and playback PCMs, what they accept, and earpieces."""

from __future__ import annotations

import argparse
import dataclasses
import json

from drivers.devices import discover, format_report


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "devices", help="list sound devices (ALSA PCMs and bluealsa earpieces)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--no-probe", action="store_true", help="only list names; do not open the devices"
    )
    parser.set_defaults(handler=run_devices)


def run_devices(args: argparse.Namespace) -> int:
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
