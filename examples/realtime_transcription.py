"""Realtime transcription over the Realtime API, fed from a file as if it were a mic.

python examples/realtime_transcription.py speech.ogg --realtime
python examples/realtime_transcription.py --record 10      # live from the microphone
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.openai import OpenAISpeechToTextClient
from examples._common import add_input_options, audio_source, config_from, parser, run
from speech_api import RealtimeSessionConfig, TurnDetection


async def main(args: argparse.Namespace) -> None:
    client = OpenAISpeechToTextClient(config_from(args))
    config = RealtimeSessionConfig(
        model=args.model,
        language=args.language,
        turn_detection=TurnDetection.NONE if args.manual else TurnDetection.SERVER_VAD,
    )
    source = audio_source(args, realtime=args.realtime)
    async for event in client.transcribe_realtime(source, config):
        label = "Final" if event.is_final else "Live"
        print(f"{label}: {event.text}", flush=True)


if __name__ == "__main__":
    p = parser("Transcribe live audio (here: a file played out in 20 ms frames).")
    add_input_options(p)
    p.add_argument("--model", default="gpt-4o-transcribe")
    p.add_argument("--language", help="ISO-639-1 code, e.g. en")
    p.add_argument("--realtime", action="store_true", help="pace frames like a microphone")
    p.add_argument(
        "--manual",
        action="store_true",
        help="commit the turn at the end instead of using server VAD",
    )
    sys.exit(run(main(p.parse_args())))
