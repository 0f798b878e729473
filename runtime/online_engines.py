"""The engines that talk to an OpenAI-compatible provider, built from the config.

Imports of the provider drivers happen here only, so local mode never loads them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from actors.engine import ConversationEngine
from actors.engines.chained import ChainedEngine
from actors.engines.link import ProviderLink
from actors.engines.tools import ToolRunningEngine
from actors.engines.transcribe import TranscribeEngine, TranscriptOutputs
from actors.engines.transcribers import ClipTranscriber, LiveTranscriber, TurnTranscriber
from actors.realtime_engine import RealtimeEngine
from drivers.backoff import Backoff
from drivers.local.skills import SkillRegistry
from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient, OpenAIRealtimeSession
from runtime.config import HubConfig
from runtime.logging_setup import register_secret
from speech_api import BlockingTextToSpeechClient
from speech_api.errors import APIError
from speech_api.events import RealtimeSessionConfig, TurnDetection
from speech_api.history import ConversationHistory

LiveTranscriberOpener = Callable[[], OpenAIRealtimeSession]


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
                   local_tts: BlockingTextToSpeechClient) -> ConversationEngine:
    """``local_tts`` speaks when ``chained.tts.provider`` is local."""
    from drivers.openai.chat import ChatClient

    c = config.chained
    llm_key = str(c.llm.api_key_file) if c.llm.api_key_file else None
    chat = ChatClient(openai_config(config, base_url=c.llm.base_url, api_key_file=llm_key),
                      model=c.llm.model)
    return ChainedEngine(
        _chained_stt(config), chat, _chained_tts(config, local_tts),
        history=ConversationHistory(c.llm.max_history_turns),
        instructions=c.llm.instructions, skills=skills, language=c.stt.language,
    )


def _chained_stt(config: HubConfig) -> TurnTranscriber:
    stt = config.chained.stt
    if stt.provider == "local":
        from drivers.local.stt import LocalSpeechToTextClient

        return ClipTranscriber(LocalSpeechToTextClient(mode="free"), language=None)
    if stt.mode == "realtime":
        return LiveTranscriber(_transcription_opener(config, stt.model, stt.language))
    from drivers.openai.stt import OpenAISpeechToTextClient

    client = OpenAISpeechToTextClient(openai_config(config), model=stt.model)
    return ClipTranscriber(client, language=stt.language, stream=stt.mode == "stream")


def _chained_tts(config: HubConfig,
                 local_tts: BlockingTextToSpeechClient) -> BlockingTextToSpeechClient:
    tts = config.chained.tts
    if tts.provider == "local":
        return local_tts
    from drivers.openai.tts import OpenAITextToSpeechClient

    return OpenAITextToSpeechClient(openai_config(config), model=tts.model, voice=tts.voice,
                                    instructions=tts.instructions)


def _transcription_opener(config: HubConfig, model: str,
                          language: str | None) -> LiveTranscriberOpener:
    client = OpenAIRealtimeClient(openai_config(config))
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
