"""Streaming transcription: print the transcript as it grows, then the final text.

python examples/streaming_transcription.py speech.flac
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.openai import OpenAISpeechToTextClient
from examples._common import config_from, parser, run
from speech_api import load_audio


async def main(args: argparse.Namespace) -> None:
    client = OpenAISpeechToTextClient(config_from(args), model=args.model)
    audio = load_audio(args.file)
    text = ""
    async for text in client.transcribe_stream(audio, language=args.language):
        print(f"Partial: {text}", flush=True)
    print(f"Final: {text}")


if __name__ == "__main__":
    p = parser("Transcribe a file, showing partial results as they arrive.")
    p.add_argument("file", help="WAV, MP3, FLAC or OGG file")
    p.add_argument("--model", default="gpt-4o-transcribe")
    p.add_argument("--language", help="ISO-639-1 code, e.g. en")
    sys.exit(run(main(p.parse_args())))
