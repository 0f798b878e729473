"""The hub's configuration: ``maigic.yaml`` -> frozen :class:`HubConfig`.

Every section the hub has is a frozen dataclass below; the defaults are the
embedded default (offline ``local`` mode). ``config/maigic.yaml`` mirrors this
file with a comment on every key. :func:`load_config` reports every problem at
once (file, line, key path, expected, found) and raises :class:`ConfigError`;
a running hub keeps its last good config when a reload fails.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml

from runtime.config_schema import ConfigProblem, convert, section, setting

Mode = Literal["realtime", "chained", "transcribe", "local", "assist"]
DEFAULT_CONFIG_PATH = Path("/etc/maigic/maigic.yaml")
API_KEY_ENV = "OPENAI_API_KEY"


@dataclass(frozen=True, slots=True)
class CaptureConfig:
    device: str = setting("default", help="ALSA PCM name the microphone is read from")
    sample_rate: int = setting(16000, min=8000, max=48000)
    channels: int = setting(1, min=1, max=2)
    period_ms: int = setting(20, min=5, max=100)


@dataclass(frozen=True, slots=True)
class PlaybackConfig:
    device: str = setting("default", help="ALSA PCM name answers are played to")
    sample_rate: int = setting(16000, min=8000, max=48000)
    channels: int = setting(1, min=1, max=2)
    period_ms: int = setting(20, min=5, max=100)
    buffer_ms: int = setting(60000, min=1000, max=600000)
    volume: float = setting(0.8, min=0.0, max=1.0)


@dataclass(frozen=True, slots=True)
class AudioConfig:
    capture: CaptureConfig = section(CaptureConfig)
    playback: PlaybackConfig = section(PlaybackConfig)


@dataclass(frozen=True, slots=True)
class ButtonConfig:
    enabled: bool = True
    pin: int = setting(17, min=0, max=27, help="BCM GPIO number")
    active_low: bool = True
    debounce_ms: int = setting(30, min=0, max=500)
    hold_ms: int = setting(400, min=100, max=5000)
    double_tap_ms: int = setting(350, min=100, max=2000)


@dataclass(frozen=True, slots=True)
class WakeWordConfig:
    enabled: bool = True
    engine: Literal["micro", "keyphrase", "openwakeword", "wyoming"] = "micro"
    model: Literal["okay_nabu", "hey_jarvis", "alexa", "hey_mycroft"] = "okay_nabu"
    phrase: str | None = setting(None, help="custom phrase for the keyphrase engine")
    model_path: Path | None = setting(None, help="openWakeWord .onnx model (user supplied)")
    uri: str | None = setting(None, help="wyoming engine: the server, tcp://host:10400")
    sensitivity: float = setting(0.5, min=0.0, max=1.0)
    refractory_ms: int = setting(2000, min=0, max=30000)
    window: int = setting(3, min=0, max=50, help="micro engine: probabilities averaged (one "
                          "per 30 ms); 0 = the model's own (5), which decides 60 ms later")
    vad_gate: bool = setting(True, help="local engines: run the wake word only around speech "
                             "a WebRTC VAD hears, replaying the second before it")


@dataclass(frozen=True, slots=True)
class EarpieceButtonConfig:
    enabled: bool = setting(True, help="the earpiece's own button as a trigger")
    hfp: Literal["auto", "always", "never"] = setting(
        "auto", help="AT+BVRA / AT+CKPD over bluealsa's RFCOMM D-Bus interface (and the "
        "battery and codec); auto = when an audio device is a bluealsa PCM")
    avrcp: Literal["auto", "always", "never"] = setting(
        "auto", help="play/pause keys from BlueZ's AVRCP input device; auto = as hfp")
    input_device: Path | None = setting(
        None, help="evdev node for the AVRCP keys; null = BlueZ's '(AVRCP)' device by name")
    hold_ms: int = setting(600, min=100, max=5000)
    double_tap_ms: int = setting(350, min=0, max=2000)


@dataclass(frozen=True, slots=True)
class TriggersConfig:
    button: ButtonConfig = section(ButtonConfig)
    keyboard: bool = False
    wake_word: WakeWordConfig = section(WakeWordConfig)
    always_listening: bool = False
    earpiece_button: EarpieceButtonConfig = section(EarpieceButtonConfig)


@dataclass(frozen=True, slots=True)
class ConversationConfig:
    preroll_ms: int = setting(500, min=0, max=3000)
    endpoint_silence_ms: int = setting(700, min=100, max=5000,
                                       help="silence that ends a turn, from the speech's true end "
                                            "(at least vad.hangover_ms)")
    listen_timeout_s: float = setting(8.0, min=1.0, max=120.0)
    max_utterance_s: float = setting(30.0, min=1.0, max=300.0)
    think_timeout_s: float = setting(15.0, min=1.0, max=120.0)
    follow_up_s: float = setting(4.0, min=0.0, max=60.0)
    barge_in: bool = True
    barge_in_min_speech_ms: int = setting(250, min=0, max=3000,
                                          help="speech over an answer this long stops it")
    near_field_snr_db: float = setting(
        22.0, min=0.0, max=80.0,
        help="speech without a trigger must be this far over the noise floor (0 = off)")


@dataclass(frozen=True, slots=True)
class VadConfig:
    engine: Literal["webrtc", "silero"] = "webrtc"
    aggressiveness: int = setting(2, min=0, max=3)
    threshold: float = setting(0.5, min=0.0, max=1.0)
    start_ms: int = setting(60, min=0, max=2000)
    hangover_ms: int = setting(300, min=0, max=5000, help="a shorter gap inside speech is bridged")
    min_speech_ms: int = setting(150, min=0, max=5000, help="shorter speech is ignored")


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    model: str = "gpt-realtime"
    voice: str = "marin"
    instructions: str = setting(
        "You are a helpful voice assistant in the user's earpiece. Answer briefly."
    )
    turn_detection: Literal["server_vad", "semantic_vad", "none"] = "server_vad"
    noise_reduction: Literal["near_field", "far_field", "none"] = "near_field"
    vad_threshold: float = setting(0.5, min=0.0, max=1.0)
    silence_duration_ms: int = setting(500, min=100, max=5000)


@dataclass(frozen=True, slots=True)
class OpenAIConfigSection:
    base_url: str = setting("https://api.openai.com/v1")
    api_key_file: Path | None = setting(None, help="0600 file holding the key")
    organization: str | None = None
    project: str | None = None
    timeout_s: float = setting(30.0, min=1.0, max=600.0)
    max_retries: int = setting(3, min=0, max=10)
    realtime: RealtimeConfig = section(RealtimeConfig)


@dataclass(frozen=True, slots=True)
class ChainedSttConfig:
    provider: Literal["openai", "local", "wyoming"] = "openai"
    base_url: str | None = setting(
        None, help="this stage's endpoint: OpenAI-compatible http(s) URL, or tcp://host:port "
        "for wyoming; null: openai.base_url")
    api_key_file: Path | None = setting(None, help="key for base_url; null: the openai key")
    mode: Literal["batch", "stream", "realtime"] = "stream"
    model: str = "gpt-4o-mini-transcribe"
    language: str | None = "en"


@dataclass(frozen=True, slots=True)
class ChainedLlmConfig:
    base_url: str | None = setting(None, help="OpenAI-compatible endpoint; default openai.base_url")
    api_key_file: Path | None = None
    model: str = "gpt-4o-mini"
    instructions: str = setting(
        "You are a helpful voice assistant. Answer in one or two sentences."
    )
    max_history_turns: int = setting(10, min=0, max=200)


@dataclass(frozen=True, slots=True)
class ChainedTtsConfig:
    provider: Literal["openai", "local", "wyoming"] = "openai"
    base_url: str | None = setting(
        None, help="this stage's endpoint: OpenAI-compatible http(s) URL, or tcp://host:port "
        "for wyoming; null: openai.base_url")
    api_key_file: Path | None = setting(None, help="key for base_url; null: the openai key")
    model: str = "gpt-4o-mini-tts"
    voice: str = "marin"
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class ChainedConfig:
    stt: ChainedSttConfig = section(ChainedSttConfig)
    llm: ChainedLlmConfig = section(ChainedLlmConfig)
    tts: ChainedTtsConfig = section(ChainedTtsConfig)


@dataclass(frozen=True, slots=True)
class TranscribeConfig:
    provider: Literal["openai", "local"] = setting(
        "openai", help="local: offline dictation with local.stt, no key needed")
    model: str = "gpt-4o-transcribe"
    language: str | None = "en"
    output_file: Path | None = None
    print_transcripts: bool = True
    hook: str | None = setting(None, help="command run with each final transcript on stdin")


@dataclass(frozen=True, slots=True)
class LocalSttConfig:
    engine: Literal["auto", "pocketsphinx", "faster_whisper"] = setting(
        "auto", help="auto: faster_whisper when installed and the board has >= 1 GiB, "
        "else pocketsphinx")
    grammar: bool = setting(True, help="pocketsphinx: decode against the skills' grammar first")
    model_dir: Path | None = None
    language: str = "en"
    threads: int = setting(0, min=0, max=16, help="faster_whisper CPU threads (0: one per core, "
                           "at most 4)")
    download_dir: Path | None = setting(None, help="faster_whisper: where tiny.en may be "
                                        "downloaded when no model is installed (null: "
                                        "$STATE_DIRECTORY/models under systemd, else never)")
    speculate_after_ms: int = setting(200, min=0, max=5000, help="local mode: decode the "
                                      "turn once its audio has been quiet this long, while the "
                                      "endpoint still counts (0: only at the turn's end)")


@dataclass(frozen=True, slots=True)
class LocalTtsConfig:
    engine: Literal["flite", "espeak", "piper"] = "flite"
    voice: str = "kal16"
    piper_model: Path | None = None


@dataclass(frozen=True, slots=True)
class LocalConfig:
    stt: LocalSttConfig = section(LocalSttConfig)
    tts: LocalTtsConfig = section(LocalTtsConfig)


@dataclass(frozen=True, slots=True)
class AssistConfig:
    uri: str = setting("tcp://0.0.0.0:10700",
                       help="where Home Assistant connects to the hub (its Wyoming satellite)")
    name: str = setting("mAIgic hub", help="the satellite's name in Home Assistant")
    area: str | None = setting(None, help="the area Home Assistant puts it in")


@dataclass(frozen=True, slots=True)
class FallbackConfig:
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FeedbackConfig:
    earcons: bool = True
    earcon_volume: float = setting(0.4, min=0.0, max=1.0)
    led: bool = True
    led_pin: int = setting(27, min=0, max=27)


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    conversation: bool = setting(False, help="log what was said (off: privacy)")


@dataclass(frozen=True, slots=True)
class StatusConfig:
    socket: Path = setting(Path("/run/maigic/status.sock"))


@dataclass(frozen=True, slots=True)
class HubConfig:
    mode: Mode = "local"
    audio: AudioConfig = section(AudioConfig)
    triggers: TriggersConfig = section(TriggersConfig)
    conversation: ConversationConfig = section(ConversationConfig)
    vad: VadConfig = section(VadConfig)
    openai: OpenAIConfigSection = section(OpenAIConfigSection)
    chained: ChainedConfig = section(ChainedConfig)
    transcribe: TranscribeConfig = section(TranscribeConfig)
    local: LocalConfig = section(LocalConfig)
    assist: AssistConfig = section(AssistConfig)
    fallback: FallbackConfig = section(FallbackConfig)
    feedback: FeedbackConfig = section(FeedbackConfig)
    logging: LoggingConfig = section(LoggingConfig)
    status: StatusConfig = section(StatusConfig)

    @property
    def needs_openai(self) -> bool:
        """Whether this mode talks to an OpenAI-compatible provider at all."""
        # chained mode always has an OpenAI-compatible LLM endpoint
        if self.mode == "transcribe":
            return self.transcribe.provider == "openai"
        return self.mode not in ("local", "assist")


class ConfigError(Exception):
    """The config file is unusable; ``problems`` lists every reason."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated config, the file it came from, and non-fatal warnings."""

    config: HubConfig
    path: Path
    warnings: tuple[str, ...] = ()


# Keys older files may still set: accepted with a warning (an upgraded Pi keeps its
# /etc/maigic/maigic.yaml, which must not stop the hub), never read.
RETIRED_KEYS = {
    "fallback.retry_online_s": "the provider link retries on its own backoff "
                               "(1 s doubling to 15 s; a rejected key every 5 minutes)",
    "triggers.button.long_hold_ms": "a long hold is push-to-talk like any other hold",
}


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem."""
    p = Path(path)
    name = str(p)
    text = _read_text(p)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(name, exc)]) from None
    except RecursionError:
        msg = "YAML nesting is too deep; expected a few levels of settings"
        raise ConfigError([ConfigProblem(name, None, "", msg)]) from None
    if root is None:
        msg = "the file is empty; expected settings such as 'mode: local'"
        raise ConfigError([ConfigProblem(name, 1, "", msg)])
    config, problems, retired = convert(HubConfig, root, name, RETIRED_KEYS)
    problems += _check_files(config, name, root)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return LoadedConfig(config, p, (*map(str, retired), *_warnings(config, name)))


def _read_text(p: Path) -> str:
    name = str(p)
    try:
        # inside the try: is_dir() itself raises PermissionError in a directory the user
        # cannot search (/etc/maigic is root:maigic 0750)
        if p.is_dir():
            msg = "is a directory; expected a YAML file"
            raise ConfigError([ConfigProblem(name, None, "", msg)])
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(name, None, "", "no such file")]) from None
    except UnicodeDecodeError as exc:
        msg = f"is not UTF-8 text (byte {exc.start}); expected a YAML file"
        raise ConfigError([ConfigProblem(name, None, "", msg)]) from None
    except PermissionError as exc:
        msg = (f"cannot be read: {exc.strerror or exc}; run it as root (sudo) or as a member "
               "of the 'maigic' group")
        raise ConfigError([ConfigProblem(name, None, "", msg)]) from None
    except OSError as exc:
        msg = f"cannot be read: {exc.strerror or exc}"
        raise ConfigError([ConfigProblem(name, None, "", msg)]) from None


def _yaml_problem(name: str, exc: yaml.YAMLError) -> ConfigProblem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    detail = f"{what} ({context})" if context else str(what)
    return ConfigProblem(name, line, "", f"YAML syntax error: {detail}")


def _line_of(root: yaml.Node, dotted: str) -> int | None:
    """The line of a key path in the YAML tree, for messages about values."""
    node: yaml.Node | None = root
    line = None
    for part in dotted.split("."):
        if not isinstance(node, yaml.MappingNode):
            return line
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == part:
                line, node = k.start_mark.line + 1, v
                break
        else:
            return line
    return line


def _check_files(config: HubConfig, name: str, root: yaml.Node) -> list[ConfigProblem]:
    """User-supplied paths must exist at start-up, not fail mid-conversation."""
    problems = []
    paths: dict[str, Path | None] = {
        "openai.api_key_file": config.openai.api_key_file,
        "chained.llm.api_key_file": config.chained.llm.api_key_file,
        "chained.stt.api_key_file": config.chained.stt.api_key_file,
        "chained.tts.api_key_file": config.chained.tts.api_key_file,
        "triggers.wake_word.model_path": config.triggers.wake_word.model_path,
        "local.stt.model_dir": config.local.stt.model_dir,
        "local.tts.piper_model": config.local.tts.piper_model,
    }
    for key, path in paths.items():
        if path is not None and not path.exists():
            msg = f"expected an existing path, found {str(path)!r} (no such file)"
            problems.append(ConfigProblem(name, _line_of(root, key), key, msg))
    needs = {
        "triggers.wake_word.model_path": config.triggers.wake_word.engine == "openwakeword"
        and config.triggers.wake_word.enabled,
        "local.tts.piper_model": config.local.tts.engine == "piper",
    }
    for key, needed in needs.items():
        if needed and paths[key] is None:
            engine_key = key.rsplit(".", 1)[0] + ".engine"
            msg = "is required by the chosen engine (a user-supplied model path)"
            problems.append(ConfigProblem(name, _line_of(root, engine_key), key, msg))
    if config.triggers.wake_word.engine == "keyphrase" and not config.triggers.wake_word.phrase:
        line = _line_of(root, "triggers.wake_word.engine")
        msg = "is required by the keyphrase engine"
        problems.append(ConfigProblem(name, line, "triggers.wake_word.phrase", msg))
    problems += _check_stage_endpoints(config, name, root)
    wake = config.triggers.wake_word
    if wake.engine == "wyoming" and urlsplit(wake.uri or "").scheme != "tcp":
        where = "triggers.wake_word.uri" if wake.uri else "triggers.wake_word.engine"
        found = repr(wake.uri) if wake.uri else "nothing"
        msg = f"the wyoming engine needs a tcp://host:port address, found {found}"
        problems.append(ConfigProblem(name, _line_of(root, where), "triggers.wake_word.uri", msg))
    return problems


def _check_stage_endpoints(config: HubConfig, name: str, root: yaml.Node) -> list[ConfigProblem]:
    """A chained stage's ``base_url`` must suit its provider (http(s) or Wyoming's tcp)."""
    problems = []
    for stage, cfg in (("stt", config.chained.stt), ("tts", config.chained.tts)):
        key = f"chained.{stage}.base_url"
        scheme = urlsplit(cfg.base_url).scheme if cfg.base_url else None
        if cfg.provider == "wyoming" and scheme != "tcp":
            found = repr(cfg.base_url) if cfg.base_url else "nothing"
            msg = f"provider wyoming needs a tcp://host:port address, found {found}"
            where = key if cfg.base_url else f"chained.{stage}.provider"
            problems.append(ConfigProblem(name, _line_of(root, where), key, msg))
        elif cfg.provider == "openai" and scheme not in (None, "http", "https"):
            msg = f"provider openai needs an http(s):// URL, found {cfg.base_url!r}"
            problems.append(ConfigProblem(name, _line_of(root, key), key, msg))
    return problems


def _plain_http_off_box(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in ("localhost", "::1") or host.startswith("127.")
    return parts.scheme == "http" and not local


def _warnings(config: HubConfig, name: str) -> list[str]:
    warnings = []
    for key, path in (
        ("openai.api_key_file", config.openai.api_key_file),
        ("chained.llm.api_key_file", config.chained.llm.api_key_file),
        ("chained.stt.api_key_file", config.chained.stt.api_key_file),
        ("chained.tts.api_key_file", config.chained.tts.api_key_file),
    ):
        if path is not None and path.is_file():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                warnings.append(
                    f"{name}: {key}: {path} is readable by group or others (mode {mode:o}); "
                    f"run 'chmod 600 {path}'"
                )
    for key, url in (("openai.base_url", config.openai.base_url),
                      ("chained.llm.base_url", config.chained.llm.base_url),
                      ("chained.stt.base_url", config.chained.stt.base_url),
                      ("chained.tts.base_url", config.chained.tts.base_url)):
        if url and _plain_http_off_box(url):
            warnings.append(
                f"{name}: {key}: {url} is plain http to another machine: the API key and "
                "conversations cross the network unencrypted; use https"
            )
    has_key = config.openai.api_key_file is not None or bool(os.environ.get(API_KEY_ENV))
    if config.needs_openai and not has_key:
        meanwhile = ("nothing answers" if not config.fallback.enabled
                     else "the hub transcribes locally" if config.mode == "transcribe"
                     else "the hub answers offline")
        warnings.append(
            f"{name}: mode '{config.mode}' needs an OpenAI API key: set {API_KEY_ENV} or "
            f"openai.api_key_file (until then {meanwhile})"
        )
    return warnings
