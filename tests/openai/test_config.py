"""OpenAIConfig: where the key comes from, how it is kept secret, the URLs it derives."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from drivers.openai.config import OpenAIConfig
from speech_api.errors import APIError

KEY = "sk-config-test-secret-000111222"


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_key_from_argument_wins_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-aaaaaaaa")
    assert OpenAIConfig(api_key=KEY).resolve_api_key() == KEY
    assert OpenAIConfig().resolve_api_key() == "sk-from-env-aaaaaaaa"


def test_key_file_is_read_and_loose_permissions_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    os.chmod(key_file, 0o600)
    with caplog.at_level(logging.WARNING):
        assert OpenAIConfig(api_key_file=str(key_file)).resolve_api_key() == KEY
    assert "readable by group/other" not in caplog.text
    os.chmod(key_file, 0o644)
    with caplog.at_level(logging.WARNING):
        assert OpenAIConfig(api_key_file=str(key_file)).resolve_api_key() == KEY
    assert "readable by group/other" in caplog.text
    assert KEY not in caplog.text


def test_missing_key_is_a_clear_non_retryable_error(tmp_path: Path) -> None:
    with pytest.raises(APIError) as info:
        OpenAIConfig().resolve_api_key()
    assert info.value.code == "missing_api_key" and not info.value.retryable
    assert "OPENAI_API_KEY" in str(info.value)
    with pytest.raises(APIError, match="cannot read the OpenAI key file"):
        OpenAIConfig(api_key_file=str(tmp_path / "absent")).resolve_api_key()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(APIError, match="is empty"):
        OpenAIConfig(api_key_file=str(empty)).resolve_api_key()


def test_repr_and_str_never_show_the_key() -> None:
    config = OpenAIConfig(api_key=KEY)
    assert KEY not in repr(config) and KEY not in str(config)
    assert "<set>" in repr(config)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.openai.com/v1", "wss://api.openai.com/v1/realtime"),
        ("http://127.0.0.1:8080/v1/", "ws://127.0.0.1:8080/v1/realtime"),
        ("https://proxy.example/openai/v1", "wss://proxy.example/openai/v1/realtime"),
    ],
)
def test_realtime_url_is_derived_like_the_sdk(base_url: str, expected: str) -> None:
    config = OpenAIConfig(base_url=base_url)
    assert config.realtime_base_url == expected
    assert config.realtime_url(model="gpt-realtime") == expected + "?model=gpt-realtime"
    assert config.realtime_url(intent="transcription") == expected + "?intent=transcription"


def test_handshake_headers_have_auth_org_project_and_no_beta() -> None:
    headers = OpenAIConfig(api_key=KEY, organization="org-1", project="proj-1").realtime_headers()
    assert headers == [
        f"Authorization: Bearer {KEY}",
        "OpenAI-Organization: org-1",
        "OpenAI-Project: proj-1",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "ftp://x/v1"}, "must start with http:// or https://"),
        ({"timeout_s": 0}, "timeout_s must be > 0"),
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"ping_interval_s": 5, "dead_link_after_s": 5}, "dead_link_after_s must be longer"),
    ],
)
def test_bad_settings_are_rejected_with_a_clear_message(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        OpenAIConfig(**kwargs)  # type: ignore[arg-type]


def test_http_client_points_at_base_url_with_retry_policy() -> None:
    client = OpenAIConfig(
        api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=3
    ).http_client()
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9/v1"
    assert client.max_retries == 3
