"""The chained stages that run at Wyoming servers, built from the config.

Imports of the ``wyoming`` library happen here only (and in ``drivers/wyoming``), so
a hub that does not use it never needs it installed.
"""

from __future__ import annotations

from runtime.config import ChainedTtsConfig, HubConfig
from speech_api import BlockingSpeechToTextClient, BlockingTextToSpeechClient

OPENAI_DEFAULT_VOICE = ChainedTtsConfig().voice


def wyoming_stt(config: HubConfig) -> BlockingSpeechToTextClient:
    """``chained.stt`` at a Wyoming ASR server (``base_url: tcp://host:port``)."""
    from drivers.wyoming import WyomingSpeechToTextClient

    stt = config.chained.stt
    assert stt.base_url is not None  # the config check requires it for this provider
    return WyomingSpeechToTextClient(stt.base_url, language=stt.language,
                                     timeout_s=config.openai.timeout_s)


def wyoming_tts(config: HubConfig) -> BlockingTextToSpeechClient:
    """``chained.tts`` at a Wyoming TTS server; the OpenAI default voice means the server's."""
    from drivers.wyoming import WyomingTextToSpeechClient

    tts = config.chained.tts
    assert tts.base_url is not None  # the config check requires it for this provider
    voice = None if tts.voice == OPENAI_DEFAULT_VOICE else tts.voice
    return WyomingTextToSpeechClient(tts.base_url, voice=voice,
                                     timeout_s=config.openai.timeout_s)
