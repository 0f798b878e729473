"""Batch transcription: send whole audio files, print each transcript.

python examples/batch_transcription.py speech.wav notes.mp3 --language en
python examples/batch_transcription.py --record 5          # 5 s from the microphone
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.openai import OpenAISpeechToTextClient
from examples._common import ExampleError, config_from, input_audio, parser, run
from speech_api import AudioChunk, format_for_path


async def main(args: argparse.Namespace) -> None:
    client = OpenAISpeechToTextClient(config_from(args), model=args.model)
    if args.record is not None:
        audio = await input_audio(args)
        print(f"recording: {await client.transcribe(audio, args.language, args.prompt)}")
    elif not args.files:
        raise ExampleError("give one or more audio files, or --record SECONDS")
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise ExampleError(f"{path}: no such file")
        # Encoded files (MP3, FLAC, OGG, WAV) are uploaded as they are.
        audio = AudioChunk(data=path.read_bytes(), format=format_for_path(path))
        text = await client.transcribe(audio, language=args.language, prompt=args.prompt)
        print(f"{path}: {text}")


if __name__ == "__main__":
    p = parser("Transcribe audio files in one request each.")
    p.add_argument("files", nargs="*", help="WAV, MP3, FLAC or OGG files")
    p.add_argument("--record", type=float, metavar="SECONDS", help="record from the microphone")
    p.add_argument("--device", default="default", help="ALSA capture PCM for --record")
    p.add_argument("--model", default="gpt-4o-transcribe")
    p.add_argument("--language", help="ISO-639-1 code, e.g. en")
    p.add_argument("--prompt", help="context that helps recognition")
    sys.exit(run(main(p.parse_args())))
