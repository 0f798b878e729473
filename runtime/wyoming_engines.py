"""The chained stages that run at Wyoming servers, built from the config.

Imports of the ``wyoming`` library happen here only (and in ``drivers/wyoming``), so
a hub that does not use it never needs it installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.config import ChainedTtsConfig, HubConfig

if TYPE_CHECKING:
    from actors.engine import ConversationEngine
    from actors.engines.local import LocalEngine
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


def assist_engine(config: HubConfig, announcer: LocalEngine) -> ConversationEngine:
    """``mode: assist``: the hub as Home Assistant's Wyoming satellite; Home Assistant's
    timers ring through ``announcer`` (the local voice and the timer earcon)."""
    from actors.engines.assist import AssistEngine
    from drivers.wyoming.satellite import WyomingSatellite

    a = config.assist

    def timer_done(name: str | None) -> None:
        announcer.announce(f"Your {name} timer is done." if name else "Your timer is done.",
                           "timer")

    return AssistEngine(lambda engine: WyomingSatellite(a.uri, engine, name=a.name, area=a.area),
                        on_timer_finished=timer_done)
