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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv`` naming a subcommand, only that subcommand's module is
    imported (``maigic run`` need not load the doctor's checks or the pairing code)."""
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
    chosen = _chosen_command(argv)
    for name in COMMANDS if chosen is None else (chosen,):
        try:
            module = importlib.import_module(f"runtime.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"runtime.commands.{name}":
                raise
            continue  # a subcommand not built yet
        module.register(subparsers)
    return parser


def _chosen_command(argv: Sequence[str] | None) -> str | None:
    """The module of the subcommand ``argv`` names, if it names one (else None: all)."""
    if argv is None:
        return None
    takes_value = {"--log-level", "--config"}
    words = iter(argv)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif not word.startswith("-"):
            for name in COMMANDS:
                if word == name.removesuffix("_cmd"):
                    return name
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
