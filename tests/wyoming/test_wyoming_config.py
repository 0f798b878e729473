"""The config keys of the per-stage endpoints: one clear line for a wrong address."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.config import ConfigError, load_config


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "maigic.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_a_wyoming_stage_needs_a_tcp_address(tmp_path: Path) -> None:
    text = "mode: chained\nchained:\n  stt:\n    provider: wyoming\n"
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'maigic.yaml'}:4: chained.stt.base_url: provider wyoming needs a "
        "tcp://host:port address, found nothing"]


def test_an_openai_stage_needs_an_http_url(tmp_path: Path) -> None:
    text = "chained:\n  tts:\n    base_url: tcp://home:10200\n"
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'maigic.yaml'}:3: chained.tts.base_url: provider openai needs an "
        "http(s):// URL, found 'tcp://home:10200'"]


def test_each_stage_takes_its_own_endpoint_and_key(tmp_path: Path) -> None:
    key = tmp_path / "home.key"
    key.write_text("sk-home\n")
    key.chmod(0o600)
    path = tmp_path / "maigic.yaml"
    path.write_text(f"""
mode: chained
chained:
  stt: {{provider: openai, base_url: "http://127.0.0.1:8000/v1", api_key_file: "{key}"}}
  llm: {{base_url: "http://127.0.0.1:11434/v1"}}
  tts: {{provider: wyoming, base_url: "tcp://127.0.0.1:10200"}}
""")
    config = load_config(path).config.chained
    assert (config.stt.base_url, config.stt.api_key_file) == ("http://127.0.0.1:8000/v1", key)
    assert config.tts.provider == "wyoming" and config.tts.api_key_file is None


def test_the_wyoming_wake_word_needs_its_server(tmp_path: Path) -> None:
    text = "triggers:\n  wake_word:\n    engine: wyoming\n"
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'maigic.yaml'}:3: triggers.wake_word.uri: the wyoming engine needs a "
        "tcp://host:port address, found nothing"]
