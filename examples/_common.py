"""What every example shares: connection options, audio in and out, a clean way to fail.

``--base-url`` points the examples at any OpenAI-compatible server (the test
suite uses its fake server); the key comes from ``--api-key``, ``OPENAI_API_KEY``
or ``--api-key-file``. Audio comes from a file (``--input FILE`` or the
positional argument) or from the microphone (``--record SECONDS``, ALSA
``--device``); agents' answers go to a WAV (``--out``) or the speaker (``--play``).
Bad input ends the example with one ``error: ...`` line and exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from drivers.openai.config import DEFAULT_BASE_URL, OpenAIConfig
from speech_api import AudioChunk, FileAudioSource, join_chunks, load_audio
from speech_api.errors import SpeechAPIError
from speech_api.events import (
    FunctionCall,
    InputTranscript,
    RealtimeEvent,
    ResponseDone,
    ToolResult,
    TurnTiming,
)
from speech_api.sinks import AudioSink, WavFileSink
from speech_api.sources import AudioSource


class ExampleError(Exception):
    """Bad input or options: printed as one line, no traceback."""


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


def add_input_options(p: argparse.ArgumentParser, *, positional: bool = True) -> None:
    """``[FILE] | --input FILE | --record SECONDS [--device PCM]``."""
    if positional:
        p.add_argument("file", nargs="?", help="WAV, MP3, FLAC or OGG file")
    p.add_argument("--input", help="WAV, MP3, FLAC or OGG file")
    p.add_argument("--record", type=float, metavar="SECONDS",
                   help="record this long from the microphone instead of reading a file")
    p.add_argument("--device", default="default", help="ALSA capture PCM for --record")


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", help="write the spoken answer to this WAV file")
    p.add_argument("--play", metavar="PCM", help="play the answer on this ALSA PCM (e.g. default)")


def config_from(args: argparse.Namespace) -> OpenAIConfig:
    return OpenAIConfig(
        api_key=args.api_key, api_key_file=args.api_key_file, base_url=args.base_url
    )


def input_path(args: argparse.Namespace) -> Path:
    name = getattr(args, "input", None) or getattr(args, "file", None)
    if not name:
        raise ExampleError("give an audio file (FILE or --input FILE) or --record SECONDS")
    path = Path(name)
    if not path.is_file():
        raise ExampleError(f"{path}: no such file")
    return path


def audio_source(args: argparse.Namespace, *, realtime: bool = False) -> AudioSource:
    """The microphone (``--record``) or the input file as a live source."""
    if args.record is not None:
        from drivers.alsa_source import AlsaMicrophoneSource

        if args.record <= 0:
            raise ExampleError(f"--record: expected a positive number of seconds, "
                               f"got {args.record:g}")
        print(f"recording {args.record:g} s from {args.device} ...", file=sys.stderr)
        return AlsaMicrophoneSource(args.device, seconds=args.record)
    return FileAudioSource(input_path(args), realtime=realtime)


async def input_audio(args: argparse.Namespace) -> AudioChunk:
    """The whole input: recorded from the microphone, or the file decoded."""
    if args.record is not None:
        source = audio_source(args)
        return join_chunks([chunk async for chunk in source])
    return load_audio(input_path(args))


def audio_sink(args: argparse.Namespace, sample_rate: int = 24000) -> AudioSink:
    if args.play:
        from drivers.alsa_speaker import AlsaSpeaker

        return AlsaSpeaker(args.play, sample_rate)
    if not args.out:
        raise ExampleError("say where the answer goes: --out reply.wav or --play default")
    if not Path(args.out).resolve().parent.is_dir():
        raise ExampleError(f"{args.out}: no such directory")
    return WavFileSink(args.out)


def print_event(event: RealtimeEvent) -> None:
    """One line per event worth reading (audio is not printed)."""
    if isinstance(event, InputTranscript) and event.is_final:
        print(f"you: {event.text}", flush=True)
    elif isinstance(event, FunctionCall):
        print(f"tool call: {event.name}({event.arguments})", flush=True)
    elif isinstance(event, ToolResult):
        print(f"tool result: {event.output}", flush=True)
    elif isinstance(event, ResponseDone) and event.status != "completed":
        print(f"answer {event.status}", flush=True)
    elif isinstance(event, ResponseDone) and event.transcript:
        print(f"assistant: {event.transcript}", flush=True)
    elif isinstance(event, TurnTiming) and event.first_audio_ms is not None:
        print(f"timing: first audio {event.first_audio_ms:.0f} ms after your turn, "
              f"done after {event.total_ms:.0f} ms", flush=True)


def run(main: Coroutine[Any, Any, None]) -> int:
    """Run an example's coroutine; bad input or a Speech API error is one line, exit 1."""
    try:
        asyncio.run(main)
    except (SpeechAPIError, ExampleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
