"""The conversation engine for the configured mode, wrapped in the offline fallback.

``engine_factory(config, context)`` checks what can be checked at start-up (local
models load, the local voice exists) and returns a callable making a fresh engine
for each (re)started Session actor; ``build_engine(config, context)`` makes one.

- ``local``: :class:`LocalEngine` (pocketsphinx + skills' grammar, flite/espeak/piper);
- ``realtime``: OpenAI Realtime with the skills as function tools;
- ``chained``: STT -> chat -> TTS, the skills as chat tools;
- ``transcribe``: dictation to a file / the log / a hook.
Realtime and chained run behind :class:`FallbackEngine` (unless ``fallback.enabled``
is false), with the local engine answering while the provider is away. Every
engine with a local side also announces timers when they ring.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from actors.engine import ConversationEngine, Emit
from actors.engines.delegating import DelegatingEngine
from actors.engines.fallback import FallbackEngine, TurnDetector
from actors.engines.link import ProviderLink
from actors.engines.local import LocalEngine
from actors.engines.speaker import EarconRenderer, no_earcons
from actors.engines.stages import StageHealth
from drivers.local.skills import HubStatus, SkillContext, SkillRegistry
from runtime.config import HubConfig
from speech_api import BlockingSpeechToTextClient, BlockingTextToSpeechClient
from speech_api.events import RealtimeEvent, SessionReady

log = logging.getLogger(__name__)

LOCAL_TTS_ENGINES = {"flite": "flite", "espeak": "espeak-ng", "piper": "piper"}


@dataclass(slots=True)
class EngineContext:
    """What the hub gives the engines: skill callbacks, earcons, the provider link record."""

    skill_context: SkillContext = field(default_factory=SkillContext)
    render_earcon: EarconRenderer = no_earcons
    link: ProviderLink = field(default_factory=ProviderLink)
    stages: StageHealth = field(default_factory=StageHealth)  # chained: per-stage endpoint/health


@dataclass(slots=True)
class LocalParts:
    """The offline speech engines, loaded once and shared by every engine built."""

    stt: BlockingSpeechToTextClient
    tts: BlockingTextToSpeechClient


def load_local_parts(config: HubConfig, grammar: str, *, standby: bool = False) -> LocalParts:
    """The local STT and TTS; ``ValueError`` naming the setting when one is unusable.

    ``standby``: the STT only answers while an online provider is away, so its model is
    loaded when first needed (see :class:`LazySpeechToText`); its settings are still
    checked now.
    """
    from drivers.local.lazy_stt import LazySpeechToText
    from drivers.local.tts import LocalTextToSpeechClient

    make_stt = local_stt_maker(config, grammar)
    stt = LazySpeechToText(make_stt) if standby else make_stt()
    tts_cfg = config.local.tts
    try:
        tts = LocalTextToSpeechClient(engine=LOCAL_TTS_ENGINES[tts_cfg.engine],
                                      voice=tts_cfg.voice if tts_cfg.engine != "piper" else None,
                                      piper_model=tts_cfg.piper_model)
    except ValueError as exc:
        raise ValueError(f"local.tts: {exc}") from None
    return LocalParts(stt, tts)


def local_stt_maker(config: HubConfig,
                    grammar: str) -> Callable[[], BlockingSpeechToTextClient]:
    """Check the local STT settings now; return what loads the engine."""
    stt_cfg = config.local.stt
    if stt_cfg.engine == "faster_whisper":
        model_dir = stt_cfg.model_dir
        assert model_dir is not None  # the config loader requires it for this engine

        def whisper() -> BlockingSpeechToTextClient:
            from drivers.local.whisper_stt import WhisperSpeechToTextClient

            try:
                return WhisperSpeechToTextClient(model_dir, language=stt_cfg.language,
                                                 vad_engine=config.vad.engine)
            except ValueError as exc:
                raise ValueError(f"local.stt.model_dir: {exc}") from None

        if not (model_dir / "model.bin").is_file() or not importlib.util.find_spec(
                "faster_whisper"):
            whisper()  # raises the clear error now, at start-up
        return whisper
    if stt_cfg.language.split("-")[0].lower() != "en":
        raise ValueError(f"local.stt.language: pocketsphinx here speaks English ('en'), "
                         f"got {stt_cfg.language!r}")

    def pocketsphinx() -> BlockingSpeechToTextClient:
        from drivers.local.stt import LocalSpeechToTextClient

        return LocalSpeechToTextClient(mode="grammar+free" if stt_cfg.grammar else "free",
                                       grammar=grammar if stt_cfg.grammar else None,
                                       vad_engine=config.vad.engine)

    return pocketsphinx


class EngineMaker:
    """Makes a fresh engine per (re)started Session actor; ``context.link`` feeds the status."""

    def __init__(self, config: HubConfig, context: EngineContext,
                 local: LocalParts | None) -> None:
        self.config = config
        self.context = context
        self.local = local

    def __call__(self) -> ConversationEngine:
        return build_engine(self.config, self.context, self.local)


def engine_factory(config: HubConfig, context: EngineContext | None = None) -> EngineMaker:
    """A maker of fresh engines for ``config.mode`` (checks the local engines' settings now,
    so a bad one fails at start-up; local mode also loads them now)."""
    local: LocalParts | None = None
    if config.mode != "transcribe":
        with SkillRegistry() as probe:
            # online modes keep the offline recogniser as an unloaded standby (~100 MB)
            local = load_local_parts(config, probe.jsgf(), standby=config.mode != "local")
    return EngineMaker(config, context or EngineContext(), local)


def build_engine(config: HubConfig, context: EngineContext | None = None,
                 local: LocalParts | None = None) -> ConversationEngine:
    """One engine for ``config.mode``; it owns (and closes) its skills and timers."""
    ctx = context or EngineContext()
    if config.mode == "transcribe":
        return _transcribe_engine(config, ctx.link)
    skills = SkillRegistry(ctx.skill_context)
    parts = local or load_local_parts(config, skills.jsgf(), standby=config.mode != "local")
    offline = LocalEngine(parts.stt, parts.tts, skills, render_earcon=ctx.render_earcon)
    ctx.skill_context.on_timer_ring = lambda ring: offline.announce(ring.message, ring.earcon)
    ctx.skill_context.last_answer = lambda: offline.last_answer
    if ctx.skill_context.status is HubStatus:  # the hub gave no status: report what we know
        ctx.skill_context.status = lambda: HubStatus(mode=config.mode,
                                                     provider_reachable=ctx.link.online)
    if config.mode == "local":
        return WithSkills(offline, skills)
    online, probe_per_turn = _online_engine(config, skills, parts, ctx.stages, offline)
    if not config.fallback.enabled:
        return WithSkills(WithAnnouncer(online, offline), skills)
    fallback = FallbackEngine(online, offline, ctx.link,
                              retry_online_s=config.fallback.retry_online_s,
                              probe_per_turn=probe_per_turn,
                              turn_detector=_turn_detector(config))
    return WithSkills(fallback, skills)


def _online_engine(config: HubConfig, skills: SkillRegistry, local: LocalParts,
                   stages: StageHealth,
                   offline: LocalEngine) -> tuple[ConversationEngine, bool]:
    """The provider's engine and whether it is retried per turn (no standing connection)."""
    from runtime.online_engines import chained_engine, realtime_engine

    if config.mode == "assist":  # Home Assistant connects to us: a standing connection
        from runtime.wyoming_engines import assist_engine

        return assist_engine(config, offline), False

    if config.mode == "realtime":
        return realtime_engine(config, skills), False
    return chained_engine(config, skills, local.tts, stages, local.stt), True


def _turn_detector(config: HubConfig) -> Callable[[], TurnDetector] | None:
    """Offline turn detection where the provider's VAD ends turns online."""
    from runtime.hub_parts import segmenter
    from runtime.online_engines import server_turns

    return (lambda: segmenter(config)) if server_turns(config) else None


def _transcribe_engine(config: HubConfig, link: ProviderLink) -> ConversationEngine:
    from runtime.online_engines import transcribe_engine

    return transcribe_engine(config, link)


class WithSkills(DelegatingEngine):
    """Closes the skills (and their timer thread) after the engine."""

    def __init__(self, inner: ConversationEngine, skills: SkillRegistry) -> None:
        super().__init__(inner)
        self.skills = skills

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.skills.close()


class WithAnnouncer(DelegatingEngine):
    """An online engine without fallback that still speaks timer rings locally."""

    def __init__(self, inner: ConversationEngine, announcer: LocalEngine) -> None:
        super().__init__(inner)
        self.announcer = announcer

    def start(self, emit: Emit) -> None:
        def replies_only(event: RealtimeEvent) -> None:
            if not isinstance(event, SessionReady):  # the online side says when it is ready
                emit(event)

        self.announcer.start(replies_only)
        self.inner.start(emit)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.announcer.close()
