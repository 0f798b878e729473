"""Streaming transcription: print the transcript as it grows, then the final text.

python examples/streaming_transcription.py speech.flac
python examples/streaming_transcription.py --record 5      # 5 s from the microphone
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.openai import OpenAISpeechToTextClient
from examples._common import add_input_options, config_from, input_audio, parser, run


async def main(args: argparse.Namespace) -> None:
    client = OpenAISpeechToTextClient(config_from(args), model=args.model)
    audio = await input_audio(args)
    text = ""
    async for text in client.transcribe_stream(audio, language=args.language):
        print(f"Partial: {text}", flush=True)
    print(f"Final: {text}")


if __name__ == "__main__":
    p = parser("Transcribe a file, showing partial results as they arrive.")
    add_input_options(p)
    p.add_argument("--model", default="gpt-4o-transcribe")
    p.add_argument("--language", help="ISO-639-1 code, e.g. en")
    sys.exit(run(main(p.parse_args())))
