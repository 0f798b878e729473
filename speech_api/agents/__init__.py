"""Voice agents for the seed's three patterns, usable from a plain asyncio script.

- :class:`ChainedAgent`: speech-to-text -> chat model (tools) -> text-to-speech;
- :class:`RealtimeAgent`: one speech-to-speech session;
- :class:`HybridAgent`: realtime transcription -> chat model -> text-to-speech.

Each takes Speech API clients (any provider, mixed), reads an audio source,
plays into an :class:`~speech_api.sinks.AudioSink`, and streams typed events
(``speech_api.events``). Provider-neutral: no provider SDK is imported here.
"""

from speech_api.agents.base import VoiceAgent
from speech_api.agents.chained import ChainedAgent, TurnDetector
from speech_api.agents.hybrid import HybridAgent
from speech_api.agents.realtime import RealtimeAgent

__all__ = ["ChainedAgent", "HybridAgent", "RealtimeAgent", "TurnDetector", "VoiceAgent"]
