"""The engines that talk to an OpenAI-compatible provider, built from the config.

Imports of the provider drivers happen here only, so local mode never loads them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

from actors.engine import ConversationEngine
from actors.engines.chained import ChainedEngine
from actors.engines.history import ConversationHistory
from actors.engines.link import ProviderLink
from actors.engines.stages import StageHealth, WatchedChat, WatchedTextToSpeech, WatchedTranscriber
from actors.engines.tools import ToolRunningEngine
from actors.engines.transcribe import TranscribeEngine, TranscriptOutputs
from actors.engines.transcribers import ClipTranscriber, LiveTranscriber, TurnTranscriber
from actors.realtime_engine import RealtimeEngine
from drivers.backoff import Backoff
from drivers.local.skills import SkillRegistry
from drivers.openai.config import OpenAIConfig, read_key_file
from drivers.openai.realtime import OpenAIRealtimeClient, OpenAIRealtimeSession
from runtime.config import ChainedLlmConfig, ChainedSttConfig, ChainedTtsConfig, HubConfig
from runtime.logging_setup import register_secret
from speech_api import BlockingSpeechToTextClient, BlockingTextToSpeechClient
from speech_api.errors import APIError
from speech_api.events import RealtimeSessionConfig, TurnDetection

LiveTranscriberOpener = Callable[[], OpenAIRealtimeSession]
ChainedStage = ChainedSttConfig | ChainedLlmConfig | ChainedTtsConfig


def openai_config(config: HubConfig, *, base_url: str | None = None,
                  api_key_file: str | None = None) -> OpenAIConfig:
    o = config.openai
    key_file = api_key_file or (str(o.api_key_file) if o.api_key_file else None)
    built = OpenAIConfig(api_key_file=key_file, base_url=base_url or o.base_url,
                         organization=o.organization, project=o.project, timeout_s=o.timeout_s,
                         max_retries=o.max_retries)
    # The log scrubber and the status socket must know the key to keep it out; with no
    # key yet there is nothing to hide (the engine reports the missing key when it connects).
    with contextlib.suppress(APIError):
        register_secret(built.resolve_api_key())
    return built


def server_turns(config: HubConfig) -> bool:
    """Whether the provider's VAD ends turns (realtime mode, always listening)."""
    return (config.mode == "realtime" and config.triggers.always_listening
            and config.openai.realtime.turn_detection != "none")


def realtime_engine(config: HubConfig, skills: SkillRegistry) -> ConversationEngine:
    rt = config.openai.realtime
    client = OpenAIRealtimeClient(openai_config(config))
    session_config = RealtimeSessionConfig(
        model=rt.model, voice=rt.voice, instructions=rt.instructions,
        turn_detection=TurnDetection(rt.turn_detection) if server_turns(config)
        else TurnDetection.NONE,
        vad_threshold=rt.vad_threshold, silence_duration_ms=rt.silence_duration_ms,
        noise_reduction=None if rt.noise_reduction == "none" else rt.noise_reduction,
        tools=tuple(skills.tool_specs()),
    )

    def open_session() -> OpenAIRealtimeSession:
        return client.open_speech_to_speech(rt.model, rt.voice, rt.instructions,
                                            session_config=session_config)

    backoff = Backoff(0.5, config.fallback.retry_online_s)
    return ToolRunningEngine(RealtimeEngine(open_session, backoff), skills)


def chained_engine(config: HubConfig, skills: SkillRegistry,
                   local_tts: BlockingTextToSpeechClient, stages: StageHealth | None = None,
                   local_stt: BlockingSpeechToTextClient | None = None) -> ConversationEngine:
    """``local_tts`` speaks when ``chained.tts.provider`` is local; ``stages`` records each
    stage's endpoint and health; a stage at its own endpoint falls back to ``local_*``."""
    from drivers.openai.chat import ChatClient

    c = config.chained
    health = stages or StageHealth()
    for name, stage in (("stt", c.stt), ("llm", c.llm), ("tts", c.tts)):
        provider = getattr(stage, "provider", "openai")
        health.register(name, provider, None if provider == "local"
                        else stage.base_url or config.openai.base_url)
    chat = WatchedChat(ChatClient(stage_openai_config(config, c.llm), model=c.llm.model), health)
    own_fallback = config.fallback.enabled
    stt = WatchedTranscriber(_chained_stt(config), health,
                             local_stt if own_fallback and _own_endpoint(c.stt) else None)
    tts = WatchedTextToSpeech(_chained_tts(config, local_tts), health,
                              local_tts if own_fallback and _own_endpoint(c.tts) else None)
    return ChainedEngine(
        stt, chat, tts,
        history=ConversationHistory(c.llm.max_history_turns),
        instructions=c.llm.instructions, skills=skills, language=c.stt.language,
    )


def _own_endpoint(stage: ChainedSttConfig | ChainedTtsConfig) -> bool:
    """A remote stage not at ``openai.base_url``: its failure is its own, not the provider's."""
    return stage.provider == "wyoming" or (stage.provider == "openai"
                                           and stage.base_url is not None)


def stage_openai_config(config: HubConfig, stage: ChainedStage) -> OpenAIConfig:
    """A chained stage's own endpoint and key, each inheriting ``openai.*`` when unset."""
    built = openai_config(config, base_url=stage.base_url)
    if stage.api_key_file is None:
        return built
    # the stage's own key file wins over $OPENAI_API_KEY (which is the main provider's key)
    try:
        key = read_key_file(stage.api_key_file.expanduser())
    except APIError:  # unreadable now: reported when the stage first connects
        return replace(built, api_key_file=str(stage.api_key_file))
    register_secret(key)
    return replace(built, api_key=key)


def _chained_stt(config: HubConfig) -> TurnTranscriber:
    stt = config.chained.stt
    if stt.provider == "local":
        from drivers.local.stt import LocalSpeechToTextClient

        return ClipTranscriber(LocalSpeechToTextClient(mode="free"), language=None)
    if stt.provider == "wyoming":
        from runtime.wyoming_engines import wyoming_stt

        return ClipTranscriber(wyoming_stt(config), language=stt.language)
    if stt.mode == "realtime":
        return LiveTranscriber(_transcription_opener(config, stt.model, stt.language,
                                                     stage_openai_config(config, stt)))
    from drivers.openai.stt import OpenAISpeechToTextClient

    client = OpenAISpeechToTextClient(stage_openai_config(config, stt), model=stt.model)
    return ClipTranscriber(client, language=stt.language, stream=stt.mode == "stream")


def _chained_tts(config: HubConfig,
                 local_tts: BlockingTextToSpeechClient) -> BlockingTextToSpeechClient:
    tts = config.chained.tts
    if tts.provider == "local":
        return local_tts
    if tts.provider == "wyoming":
        from runtime.wyoming_engines import wyoming_tts

        return wyoming_tts(config)
    from drivers.openai.tts import OpenAITextToSpeechClient

    return OpenAITextToSpeechClient(stage_openai_config(config, tts), model=tts.model,
                                    voice=tts.voice, instructions=tts.instructions)


def _transcription_opener(config: HubConfig, model: str, language: str | None,
                          endpoint: OpenAIConfig | None = None) -> LiveTranscriberOpener:
    client = OpenAIRealtimeClient(endpoint or openai_config(config))
    session_config = RealtimeSessionConfig(model=model, language=language,
                                           turn_detection=TurnDetection.NONE)

    def open_session() -> OpenAIRealtimeSession:
        return client.open_transcription(model, session_config=session_config)

    return open_session


def transcribe_engine(config: HubConfig, link: ProviderLink) -> ConversationEngine:
    t = config.transcribe
    outputs = TranscriptOutputs(output_file=t.output_file, print_transcripts=t.print_transcripts,
                                hook=t.hook)
    opener = _transcription_opener(config, t.model, t.language)
    return TranscribeEngine(LiveTranscriber(opener), outputs, link,
                            Backoff(0.5, config.fallback.retry_online_s))
