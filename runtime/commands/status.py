"""``maigic status``: ask the running hub, over its owner-only socket, how it is doing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runtime.commands.access import permission_problem
from runtime.config import DEFAULT_CONFIG_PATH, ConfigError, StatusConfig, load_config
from runtime.status import query_status

# shown first, in this order; anything else the hub reports follows
LEADING_KEYS = ("state", "mode", "online", "provider", "devices", "earpiece", "last_turn",
                "errors")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("status", help="show the running hub's state")
    parser.add_argument("--socket", type=Path, default=None, help="status socket path")
    parser.add_argument("--json", action="store_true", help="print the raw JSON")
    parser.set_defaults(handler=run_status)


def socket_path(args: argparse.Namespace) -> Path:
    if args.socket is not None:
        return Path(args.socket)
    config_path = getattr(args, "config", None) or DEFAULT_CONFIG_PATH
    try:
        return load_config(config_path).config.status.socket
    except ConfigError:
        return StatusConfig().socket


def run_status(args: argparse.Namespace) -> int:
    if args.socket is None:
        config_path = Path(getattr(args, "config", None) or DEFAULT_CONFIG_PATH)
        denied = permission_problem(config_path, "status")
        if denied:
            print(denied, file=sys.stderr)
            return 1
    path = socket_path(args)
    try:
        status = query_status(path)
    except PermissionError as exc:
        print(f"maigic status: {path}: {exc.strerror or exc} (the status socket is for root and "
              "the 'maigic' user); run 'sudo maigic status'", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"maigic status: no running hub answers at {path} ({reason})", file=sys.stderr)
        print("  is the service running? try: systemctl status maigic", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True))
        return 0
    leading = [k for k in LEADING_KEYS if k in status]
    keys = leading + sorted(k for k in status if k not in LEADING_KEYS)
    for key in keys:
        print_value(key, status[key], 0)
    return 0


def print_value(key: str, value: Any, depth: int) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        print(f"{pad}{key}:")
        for sub_key, sub_value in value.items():
            print_value(str(sub_key), sub_value, depth + 1)
    elif isinstance(value, list):
        print(f"{pad}{key}: {', '.join(str(v) for v in value) or '-'}")
    else:
        print(f"{pad}{key}: {value}")
