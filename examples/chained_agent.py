"""A chained voice agent: speech-to-text -> chat model (with the offline skills as tools)
-> text-to-speech, spoken sentence by sentence.

python examples/chained_agent.py --input question.wav --out reply.wav
python examples/chained_agent.py --record 5 --play default            # talk to it
python examples/chained_agent.py --offline --base-url http://127.0.0.1:8080/v1 \\
    --input question.wav --out reply.wav     # local STT + TTS, a llama.cpp chat server
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples._agents import agent_parser, chat_model, converse, speech_clients
from examples._common import audio_sink, audio_source, run
from speech_api.agents import ChainedAgent


async def main(args: argparse.Namespace) -> None:
    from drivers.local.skills import SkillRegistry
    from drivers.local.turns import VadTurnDetector

    source = audio_source(args, realtime=False)
    stt, tts = speech_clients(args)
    with SkillRegistry() as skills:
        agent = ChainedAgent(
            stt, chat_model(args), tts, audio_sink(args),
            # A microphone needs turns found in it; a file is one question.
            turns=VadTurnDetector() if args.record is not None else None,
            tools=None if args.no_tools else skills, instructions=args.instructions,
        )
        await converse(agent, source)


if __name__ == "__main__":
    sys.exit(run(main(agent_parser("Talk to a chained voice agent.", offline=True).parse_args())))
