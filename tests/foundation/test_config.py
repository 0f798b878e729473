"""maigic.yaml validation: the default is valid; every broken file gets one clear message."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runtime.config import ConfigError, HubConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "config" / "maigic.yaml"
SECRET = "sk-test-THIS-MUST-NEVER-BE-PRINTED-123456"


def maigic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        capture_output=True, text=True, timeout=60, env=full_env, cwd=ROOT,
    )


def test_default_config_is_valid_and_equals_the_built_in_defaults() -> None:
    loaded = load_config(DEFAULT)
    assert loaded.config == HubConfig()
    assert loaded.config.mode == "local"


def test_every_key_of_the_default_file_has_a_comment() -> None:
    text = DEFAULT.read_text().splitlines()
    uncommented = [
        line for line in text
        if re.match(r"^\s*[a-z_]+:\s*\S", line) and "#" not in line
    ]
    assert uncommented == []


def test_default_file_covers_every_setting() -> None:
    data = yaml.safe_load(DEFAULT.read_text())

    def walk(obj: object, tree: dict[str, object], prefix: str) -> list[str]:
        missing = []
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            key = f"{prefix}{f.name}"
            if f.name not in tree:
                missing.append(key)
            elif dataclasses.is_dataclass(getattr(obj, f.name)):
                sub = tree[f.name]
                assert isinstance(sub, dict)
                missing += walk(getattr(obj, f.name), sub, key + ".")
        return missing

    assert walk(HubConfig(), data, "") == []


def test_config_check_accepts_the_default() -> None:
    result = maigic("config", "check", str(DEFAULT))
    assert result.returncode == 0, result.stderr
    assert "ok (mode local)" in result.stdout


# (name, file text, expected line, key path, fragment of the message)
BROKEN: list[tuple[str, str, int | None, str, str]] = [
    ("yaml-syntax", "mode: local\naudio:\n  capture: [1, 2\n", 4, "", "YAML syntax error"),
    ("tab-indent", "audio:\n\tcapture: {}\n", 2, "", "YAML syntax error"),
    ("bad-quote", 'mode: "local\n', 2, "", "YAML syntax error"),
    ("root-list", "- mode: local\n", 1, "", "expected a mapping of settings, found a list"),
    ("root-scalar", "hello\n", 1, "", "expected a mapping of settings, found 'hello'"),
    ("section-scalar", "audio: 5\n", 1, "audio", "expected a mapping of settings, found 5"),
    ("rate-string", "audio:\n  capture:\n    sample_rate: fast\n", 3, "audio.capture.sample_rate",
     "expected an integer from 8000 to 48000, found 'fast'"),
    ("rate-low", "audio:\n  capture:\n    sample_rate: 4000\n", 3, "audio.capture.sample_rate",
     "from 8000 to 48000, found 4000"),
    ("rate-high", "audio:\n  playback:\n    sample_rate: 96000\n", 3, "audio.playback.sample_rate",
     "found 96000"),
    ("rate-float", "audio:\n  capture:\n    period_ms: 20.5\n", 3, "audio.capture.period_ms",
     "expected an integer from 5 to 100, found 20.5"),
    ("period-zero", "audio:\n  capture:\n    period_ms: 0\n", 3, "audio.capture.period_ms",
     "found 0"),
    ("volume-high", "audio:\n  playback:\n    volume: 1.5\n", 3, "audio.playback.volume",
     "expected a number from 0 to 1, found 1.5"),
    ("pin-high", "triggers:\n  button:\n    pin: 40\n", 3, "triggers.button.pin",
     "expected an integer from 0 to 27, found 40"),
    ("pin-negative", "triggers:\n  button:\n    pin: -1\n", 3, "triggers.button.pin", "found -1"),
    ("bool-number", "triggers:\n  button:\n    enabled: 3\n", 3, "triggers.button.enabled",
     "expected true or false, found 3"),
    ("bool-string", "fallback:\n  enabled: 'sometimes'\n", 2, "fallback.enabled",
     "expected true or false, found 'sometimes'"),
    ("mode-enum", "mode: cloud\n", 1, "mode",
     "expected one of realtime, chained, transcribe, local"),
    ("mode-typo", "mode: realtme\n", 1, "mode", "did you mean 'realtime'?"),
    ("vad-enum", "vad:\n  engine: webrct\n", 2, "vad.engine", "did you mean 'webrtc'?"),
    ("level-enum", "logging:\n  level: verbose\n", 2, "logging.level", "expected one of DEBUG"),
    ("unknown-top", "moed: local\n", 1, "moed", "unknown key; did you mean 'mode'?"),
    ("misspelt-nested", "audio:\n  capture:\n    sample_rte: 16000\n", 3,
     "audio.capture.sample_rte", "did you mean 'sample_rate'?"),
    ("unknown-nothing-close", "zzz: 1\n", 1, "zzz", "unknown key; known keys: mode, audio"),
    ("inline-api-key", f"openai:\n  api_key: {SECRET}\n", 2, "openai.api_key", "unknown key"),
    ("duplicate-key", "vad:\n  aggressiveness: 1\n  aggressiveness: 3\n", 3, "vad.aggressiveness",
     "is set twice (first on line 2)"),
    ("empty-string", "openai:\n  realtime:\n    model: ''\n", 3, "openai.realtime.model",
     "expected a non-empty string"),
    ("list-for-string", "audio:\n  capture:\n    device: [a, b]\n", 3, "audio.capture.device",
     "expected a string, found a list"),
    ("missing-key-file", "openai:\n  api_key_file: /nonexistent/openai.key\n", 2,
     "openai.api_key_file", "expected an existing path, found '/nonexistent/openai.key'"),
    ("oww-without-model", "triggers:\n  wake_word:\n    engine: openwakeword\n", 3,
     "triggers.wake_word.model_path", "is required by the chosen engine"),
    ("keyphrase-without-phrase", "triggers:\n  wake_word:\n    engine: keyphrase\n", 3,
     "triggers.wake_word.phrase", "is required by the keyphrase engine"),
    ("piper-without-model", "local:\n  tts:\n    engine: piper\n", 3, "local.tts.piper_model",
     "is required by the chosen engine"),
    ("empty-file", "", 1, "", "the file is empty"),
    ("only-comments", "# nothing here\n", 1, "", "the file is empty"),
]


@pytest.mark.parametrize(
    ("name", "text", "line", "key", "fragment"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_broken_config_gives_one_clear_message(
    tmp_path: Path, name: str, text: str, line: int | None, key: str, fragment: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    result = maigic("config", "check", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = [ln for ln in result.stderr.splitlines() if ln.startswith(str(path) + ":") and
                "problem" not in ln]
    assert len(problems) == 1, result.stderr
    where = f"{path}:{line}:" if line is not None else f"{path}:"
    assert problems[0].startswith(where), problems[0]
    if key:
        assert f" {key}: " in problems[0]
    assert fragment in problems[0]
    assert SECRET not in result.stderr + result.stdout


def test_directory_instead_of_file(tmp_path: Path) -> None:
    result = maigic("config", "check", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{tmp_path}: is a directory; expected a YAML file" in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    result = maigic("config", "check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1 and "no such file" in result.stderr


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = maigic("config", "check", str(path))
    assert result.returncode == 1 and "is not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("mode: cloud\naudio:\n  capture:\n    sample_rate: 1\nvad:\n  engin: webrtc\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = [p.key for p in info.value.problems]
    assert keys == ["mode", "audio.capture.sample_rate", "vad.engin"]
    assert [p.line for p in info.value.problems] == [1, 4, 6]


def test_group_readable_key_file_is_a_warning_and_the_key_is_never_printed(tmp_path: Path) -> None:
    key = tmp_path / "openai.key"
    key.write_text(SECRET)
    key.chmod(0o644)
    path = tmp_path / "c.yaml"
    path.write_text(f"mode: realtime\nopenai:\n  api_key_file: {key}\n")
    result = maigic("config", "check", str(path))
    assert result.returncode == 0
    assert "readable by group or others" in result.stderr and "chmod 600" in result.stderr
    key.chmod(0o600)
    result = maigic("config", "check", str(path))
    assert result.returncode == 0 and "readable" not in result.stderr
    shown = maigic("config", "show", str(path), env={"OPENAI_API_KEY": SECRET})
    assert shown.returncode == 0
    assert SECRET not in shown.stdout + shown.stderr + result.stdout + result.stderr
    assert "contents not shown" in shown.stdout


def test_config_show_prints_effective_yaml_without_the_env_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("mode: realtime\naudio:\n  capture:\n    sample_rate: 8000\n")
    shown = maigic("config", "show", str(path), env={"OPENAI_API_KEY": SECRET})
    assert shown.returncode == 0, shown.stderr
    data = yaml.safe_load(shown.stdout)
    assert data["mode"] == "realtime"
    assert data["audio"]["capture"]["sample_rate"] == 8000
    assert data["audio"]["playback"]["sample_rate"] == 16000  # defaults filled in
    assert SECRET not in shown.stdout + shown.stderr
    assert "from $OPENAI_API_KEY (not shown)" in shown.stdout


def test_realtime_without_any_key_warns_but_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("mode: realtime\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "config", "check", str(path)],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )
    assert result.returncode == 0
    assert "needs an OpenAI API key" in result.stderr


@pytest.mark.parametrize(("url", "warned"), [
    ("http://192.168.1.20:8080/v1", True),
    ("http://llm.example.org/v1", True),
    ("https://api.openai.com/v1", False),
    ("http://127.0.0.1:8080/v1", False),
    ("http://localhost:11434/v1", False),
])
def test_plain_http_provider_off_the_box_is_a_warning(tmp_path: Path, url: str,
                                                      warned: bool) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"mode: chained\nchained:\n  llm:\n    base_url: {url}\n")
    warnings = load_config(path).warnings
    assert any("plain http to another machine" in w for w in warnings) is warned


def test_a_retired_key_in_an_older_file_is_accepted_with_a_warning_naming_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "maigic.yaml"
    path.write_text("mode: local\n"
                    "triggers:\n"
                    "  button:\n"
                    "    long_hold_ms: 3000\n"
                    "fallback:\n"
                    "  retry_online_s: 30\n")
    loaded = load_config(path)  # an upgraded hub keeps running on the owner's old file
    assert loaded.config == HubConfig()
    retired = [w for w in loaded.warnings if "is no longer used" in w]
    assert len(retired) == 2
    assert retired[0].startswith(f"{path}:4: triggers.button.long_hold_ms: is no longer used")
    assert retired[1].startswith(f"{path}:6: fallback.retry_online_s: is no longer used")
    assert all(w.endswith("remove it") for w in retired)
    path.write_text("triggers:\n  button:\n    long_hold_mss: 3000\n")  # a typo still fails
    with pytest.raises(ConfigError):
        load_config(path)
