"""Pieces the three agent examples share: clients by option, tools, the event loop."""

from __future__ import annotations

import argparse
from typing import Any

from examples._common import (
    ExampleError,
    add_input_options,
    add_output_options,
    config_from,
    parser,
    print_event,
)
from speech_api.agents import VoiceAgent
from speech_api.clients import SpeechToTextClient, TextToSpeechClient
from speech_api.sources import AudioSource

INSTRUCTIONS = "You are a helpful voice assistant. Answer in one or two short sentences."


def agent_parser(description: str, *, offline: bool) -> argparse.ArgumentParser:
    p = parser(description)
    add_input_options(p, positional=False)
    add_output_options(p)
    if offline:
        p.add_argument("--offline", action="store_true",
                       help="local speech-to-text and text-to-speech (no key); the chat model "
                            "is still the one at --base-url (e.g. llama.cpp, Ollama)")
    p.add_argument("--chat-model", default="gpt-4o-mini")
    p.add_argument("--instructions", default=INSTRUCTIONS)
    p.add_argument("--no-tools", action="store_true", help="do not offer the offline skills")
    return p


def speech_clients(args: argparse.Namespace) -> tuple[SpeechToTextClient, TextToSpeechClient]:
    if getattr(args, "offline", False):
        from drivers.local.stt import LocalSpeechToTextClient
        from drivers.local.tts import LocalTextToSpeechClient

        try:
            return LocalSpeechToTextClient(), LocalTextToSpeechClient()
        except ValueError as exc:
            raise ExampleError(str(exc)) from None
    from drivers.openai import OpenAISpeechToTextClient, OpenAITextToSpeechClient

    config = config_from(args)
    return OpenAISpeechToTextClient(config), OpenAITextToSpeechClient(config)


def chat_model(args: argparse.Namespace) -> Any:
    from drivers.openai import ChatClient, OpenAIConfig

    config = config_from(args)
    if getattr(args, "offline", False) and not (args.api_key or args.api_key_file):
        # A local chat server (llama.cpp, Ollama) wants no key; the SDK wants one to send.
        import os

        config = OpenAIConfig(api_key=os.environ.get("OPENAI_API_KEY") or "no-key",
                              base_url=args.base_url)
    return ChatClient(config, model=args.chat_model)


async def converse(agent: VoiceAgent, source: AudioSource) -> None:
    try:
        async for event in agent.run(source):
            print_event(event)
    finally:
        await agent.sink.close()
    out = getattr(agent.sink, "path", None)
    if out is not None:
        print(f"answer saved to {out}")
