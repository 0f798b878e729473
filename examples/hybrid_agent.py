"""A hybrid voice agent: realtime transcription -> chat model (with tools) -> text-to-speech.

python examples/hybrid_agent.py --input question.wav --out reply.wav
python examples/hybrid_agent.py --record 10 --play default
python examples/hybrid_agent.py --offline --base-url http://127.0.0.1:8080/v1 \\
    --input question.wav --out reply.wav     # the local recogniser live, local TTS
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples._agents import agent_parser, chat_model, converse, speech_clients
from examples._common import audio_sink, audio_source, run
from speech_api import FileAudioSource, RealtimeSessionConfig
from speech_api.agents import HybridAgent


async def main(args: argparse.Namespace) -> None:
    from drivers.local.skills import SkillRegistry

    source = audio_source(args, realtime=False)
    if isinstance(source, FileAudioSource):
        source.trailing_silence_s = 1.5  # the transcriber hears the question end
    stt, tts = speech_clients(args)
    with SkillRegistry() as skills:
        agent = HybridAgent(
            stt, chat_model(args), tts, audio_sink(args),
            transcription=RealtimeSessionConfig(model=args.stt_model),
            tools=None if args.no_tools else skills, instructions=args.instructions,
        )
        await converse(agent, source)


if __name__ == "__main__":
    p = agent_parser("Talk to a hybrid voice agent.", offline=True)
    p.add_argument("--stt-model", default="gpt-4o-transcribe")
    sys.exit(run(main(p.parse_args())))
