"""``maigic demo``: the hub's main job with no sound card (file-backed devices, local mode).

Makes a spoken question with flite, runs the real hub on it through alsa-lib
``file``-plugin devices, writes the spoken reply to a WAV and prints what was
heard and answered. Exit status 0 when the question was heard and answered.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from runtime.config import ConfigError, HubConfig, load_config
from runtime.demo import DemoError, run_demo

log = logging.getLogger(__name__)

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "maigic.yaml"
DEFAULT_QUESTION = "what time is it"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="ask the hub a spoken question with no sound card (offline, local mode)")
    parser.add_argument("--question", default=DEFAULT_QUESTION,
                        help=f"what to ask (spoken with flite; default {DEFAULT_QUESTION!r})")
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="base config (default: the shipped config/maigic.yaml)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the asoundrc, question and recordings go (default: a new "
                             "temporary directory)")
    parser.add_argument("--output", type=Path, default=None,
                        help="the reply WAV (default WORKDIR/reply.wav)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the answer (default 60)")
    parser.set_defaults(handler=run_demo_command)


def base_config(args: argparse.Namespace) -> HubConfig:
    path = getattr(args, "config", None) or (REPO_CONFIG if REPO_CONFIG.is_file() else None)
    if path is None:
        return HubConfig()  # the built-in defaults are the shipped file's values
    return load_config(path).config


def run_demo_command(args: argparse.Namespace) -> int:
    if not args.question.strip():
        print("maigic demo: --question must not be empty", file=sys.stderr)
        return 2
    try:
        config = base_config(args)
    except ConfigError as exc:
        print(f"maigic demo: the config is unusable:\n{exc}", file=sys.stderr)
        return 2
    try:
        result = run_demo(config, args.question, args.workdir, args.output, args.timeout)
    except (DemoError, ValueError) as exc:
        print(f"maigic demo: {exc}", file=sys.stderr)
        return 1
    print(f"question:   {result.question}")
    print(f"heard:      {result.heard or '(nothing)'}")
    print(f"answer:     {result.answer or '(none)'}")
    print(f"reply WAV:  {result.reply_wav} ({result.reply_ms / 1000:.1f} s)")
    if result.timing:
        print(f"latency:    {result.timing['first_written']:.0f} ms from the end of the "
              "question to the first reply audio written")
    print(f"work dir:   {result.workdir}")
    return 0 if result.ok else 1
