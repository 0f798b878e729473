"""Fuzz the config loader with mutations of the default file: a clean result or a clean error."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.config import ConfigError, HubConfig, load_config

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "config" / "maigic.yaml"
DEFAULT_LINES = DEFAULT_FILE.read_text().splitlines()
JUNK = st.sampled_from(
    ["", ":", "- ", "\t", "{", "}", "[", "]", "'", '"', "&a", "*a", "!!python/object:os.system",
     "~", "null", "-1", "1e309", "0x1F", "yes", "no", "🙂", "\x00", "  ", "#", "? ", "|", ">"]
)


@st.composite
def mutated_default(draw: st.DrawFn) -> str:
    lines = list(DEFAULT_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "insert", "replace_value", "indent", "duplicate"]))
        if action == "delete":
            del lines[i]
        elif action == "insert":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(JUNK) + lines[i][pos:]
        elif action == "replace_value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            value = draw(st.one_of(JUNK, st.integers(-10**6, 10**6).map(str), st.text(max_size=20)))
            lines[i] = f"{key}: {value}"
        elif action == "indent":
            lines[i] = draw(st.sampled_from([" ", "  ", "    ", "\t"])) + lines[i]
        else:
            lines.insert(i, lines[i])
        if not lines:
            break
    return "\n".join(lines) + "\n"


def check(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "maigic.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            loaded = load_config(path)
        except ConfigError as exc:
            assert exc.problems, "a ConfigError always says why"
            for problem in exc.problems:
                assert problem.file == str(path)
                assert problem.message
            return
        assert isinstance(loaded.config, HubConfig)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_default())
def test_mutated_default_config_never_crashes(text: str) -> None:
    check(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    check(text.replace("\x00", ""))


def test_deeply_nested_yaml_is_a_clean_error() -> None:
    check("audio: " + "[" * 2000 + "]" * 2000 + "\n")
    check("a: &x [*x]\n")
