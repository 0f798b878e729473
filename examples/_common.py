"""What every example shares: connection options and a clean way to fail.

``--base-url`` points the examples at any OpenAI-compatible server (the test
suite uses its fake server); the key comes from ``--api-key``, ``OPENAI_API_KEY``
or ``--api-key-file``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from drivers.openai.config import DEFAULT_BASE_URL, OpenAIConfig
from speech_api.errors import SpeechAPIError


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help="OpenAI-compatible API root (default: %(default)s)",
    )
    p.add_argument("--api-key", help="API key (default: the OPENAI_API_KEY variable)")
    p.add_argument("--api-key-file", help="file holding the API key")
    return p


def config_from(args: argparse.Namespace) -> OpenAIConfig:
    return OpenAIConfig(
        api_key=args.api_key, api_key_file=args.api_key_file, base_url=args.base_url
    )


def run(main: Coroutine[Any, Any, None]) -> int:
    """Run an example's coroutine; a Speech API error becomes one line and exit code 1."""
    try:
        asyncio.run(main)
    except SpeechAPIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
