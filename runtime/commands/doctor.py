"""``maigic doctor``: check the whole chain, one line per link, each with its fix.

config -> API key -> capture -> playback -> earpiece -> GPIO -> provider -> service -> hub
(what the running hub reports on its status socket) -> clock.
Exit code 0 when nothing failed (warnings and skipped checks are fine), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from runtime.commands import doctor_checks as checks
from runtime.commands.access import permission_problem
from runtime.commands.doctor_checks import Check, Verdict
from runtime.config import DEFAULT_CONFIG_PATH, HubConfig


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check config, key, audio, earpiece, GPIO, provider, service and clock"
    )
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="config file (default /etc/maigic/maigic.yaml)")
    parser.add_argument("--skip", action="append", default=[], metavar="CHECK",
                        choices=sorted(CHECK_NAMES),
                        help="leave a check out (repeatable): " + ", ".join(sorted(CHECK_NAMES)))
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="seconds allowed for the provider request (default 5)")
    parser.set_defaults(handler=run_doctor)


CHECK_NAMES = ("api key", "capture", "playback", "earpiece", "gpio", "provider", "service",
               "hub", "clock")
ONLINE_ONLY = {"api key", "provider"}
BY_CONFIG: dict[str, Callable[[HubConfig], Check]] = {
    "capture": checks.check_capture,
    "playback": checks.check_playback,
    "earpiece": checks.check_earpiece,
    "gpio": checks.check_gpio,
    "hub": checks.check_hub,
}
STANDALONE: dict[str, Callable[[], Check]] = {
    "service": checks.check_service,
}


def run_checks(config_path: Path, *, skip: set[str], timeout_s: float) -> list[Check]:
    """Every check in chain order; a broken config skips what depends on it."""
    config_check, config = checks.check_config(config_path)
    results = [config_check]
    key: str | None = None
    for name in CHECK_NAMES:
        if name in skip:
            results.append(Check(name, Verdict.SKIP, "skipped (--skip)"))
        elif name in STANDALONE:
            results.append(STANDALONE[name]())
        elif name == "clock":
            results.append(checks.check_clock(config))  # a broken config: judged as online
        elif config is None:
            results.append(Check(name, Verdict.SKIP, "needs a valid config"))
        elif name in ONLINE_ONLY and not config.needs_openai:
            results.append(Check(name, Verdict.SKIP, f"mode '{config.mode}' is offline"))
        elif name == "api key":
            key, key_check = checks.read_api_key(config)
            results.append(key_check)
        elif name == "provider":
            results.append(checks.check_provider(config, key, timeout_s))
        else:
            results.append(BY_CONFIG[name](config))
    return results


def format_check(check: Check) -> str:
    line = f"[{check.verdict.value:^4}] {check.name:<9} {check.detail}"
    return f"{line}\n{'':16}fix: {check.fix}" if check.fix else line


def report(results: list[Check], out: TextIO) -> int:
    for check in results:
        print(format_check(check), file=out)
    failed = [c.name for c in results if c.verdict is Verdict.FAIL]
    if failed:
        print(f"{len(failed)} problem(s): {', '.join(failed)}", file=out)
        return 1
    print("all checks passed", file=out)
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    config_path = Path(getattr(args, "config", None) or DEFAULT_CONFIG_PATH)
    denied = permission_problem(config_path, "doctor")
    if denied:
        print(denied, file=sys.stderr)
        return 1
    results = run_checks(config_path, skip=set(args.skip), timeout_s=args.timeout)
    return report(results, sys.stdout)
