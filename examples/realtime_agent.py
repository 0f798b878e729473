"""A realtime voice agent: one speech-to-speech session (OpenAI Realtime), with tools.

python examples/realtime_agent.py --input question.wav --out reply.wav
python examples/realtime_agent.py --record 10 --play default
(no --offline: there is no local speech-to-speech model; see chained_agent.py --offline)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.openai import OpenAIRealtimeClient
from drivers.openai.realtime import DEFAULT_REALTIME_MODEL
from examples._agents import agent_parser, converse
from examples._common import audio_sink, audio_source, config_from, run
from speech_api import RealtimeSessionConfig, run_blocking
from speech_api.agents import RealtimeAgent


async def main(args: argparse.Namespace) -> None:
    from drivers.local.skills import SkillRegistry

    source = audio_source(args, realtime=False)
    sink = audio_sink(args, sample_rate=24000)
    with SkillRegistry() as skills:
        tools = None if args.no_tools else skills
        settings = RealtimeSessionConfig(tools=tuple(tools.tool_specs()) if tools else ())
        client = OpenAIRealtimeClient(config_from(args))
        session = await run_blocking(lambda: client.open_speech_to_speech(
            args.model, args.voice, args.instructions, session_config=settings))
        try:
            agent = RealtimeAgent(session, sink, tools=tools)
            await agent.session.initialize_session()
            await converse(agent, source)
        finally:
            session.close()


if __name__ == "__main__":
    p = agent_parser("Talk to a realtime speech-to-speech agent.", offline=False)
    p.add_argument("--model", default=DEFAULT_REALTIME_MODEL)
    p.add_argument("--voice", default="marin")
    sys.exit(run(main(p.parse_args())))
