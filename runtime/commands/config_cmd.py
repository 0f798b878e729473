"""``maigic config check|show``: validate the YAML, or print the effective config."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from runtime.commands.access import permission_problem
from runtime.config import API_KEY_ENV, DEFAULT_CONFIG_PATH, ConfigError, HubConfig, load_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("config", help="check or show the configuration")
    actions = parser.add_subparsers(dest="config_action", required=True)
    check = actions.add_parser("check", help="validate a config file (exit 0 ok, 1 broken)")
    check.add_argument("path", nargs="?", type=Path, default=None, help="config file")
    check.set_defaults(handler=run_check)
    show = actions.add_parser("show", help="print the effective config, secrets redacted")
    show.add_argument("path", nargs="?", type=Path, default=None, help="config file")
    show.set_defaults(handler=run_show)


def resolve_path(args: argparse.Namespace) -> Path:
    """The positional path, else the global ``--config``, else the system default."""
    return Path(args.path or getattr(args, "config", None) or DEFAULT_CONFIG_PATH)


def run_check(args: argparse.Namespace) -> int:
    path = resolve_path(args)
    denied = permission_problem(path, "config check")
    if denied:
        print(denied, file=sys.stderr)
        return 1
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{path}: {count} problem{'s' if count > 1 else ''}; not usable", file=sys.stderr)
        return 1
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{path}: ok (mode {loaded.config.mode})")
    return 0


def run_show(args: argparse.Namespace) -> int:
    path = resolve_path(args)
    denied = permission_problem(path, "config show")
    if denied:
        print(denied, file=sys.stderr)
        return 1
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"# effective configuration from {path}")
    print(f"# API key: {api_key_source(loaded.config)}")
    print(yaml.safe_dump(to_plain(loaded.config), sort_keys=False), end="")
    return 0


def api_key_source(config: HubConfig) -> str:
    """Where the key would come from; never the key itself."""
    if config.openai.api_key_file is not None:
        return f"from file {config.openai.api_key_file} (contents not shown)"
    if os.environ.get(API_KEY_ENV):
        return f"from ${API_KEY_ENV} (not shown)"
    return "not set (offline answers only)"


def to_plain(obj: Any) -> Any:
    """Dataclasses -> dicts, paths -> strings, tuples -> lists, for YAML output."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple):
        return [to_plain(x) for x in obj]
    return obj
