"""The ``maigic`` command line: one small module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from runtime.logging_setup import setup_logging

# subcommand modules under runtime/commands/, in help order
COMMANDS = ("run", "demo", "status", "config_cmd", "devices", "doctor", "pair")


def build_parser() -> argparse.ArgumentParser:
    from speech_api import __version__

    parser = argparse.ArgumentParser(
        prog="maigic", description="mAIgic hub: a voice assistant for a Bluetooth earpiece."
    )
    parser.add_argument("--version", action="version", version=f"maigic {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity; overrides the config's logging.level (default: that, else INFO)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default /etc/maigic/maigic.yaml)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"runtime.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"runtime.commands.{name}":
                raise
            continue  # a subcommand not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
