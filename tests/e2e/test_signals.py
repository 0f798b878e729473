"""`maigic run` in this process: SIGHUP with a broken config, SIGTERM during an answer."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runtime.cli import build_parser
from runtime.status import query_status
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.e2e.hubtest import LEAD_S, PERIOD_MS, RATE, speech, write_config
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, silence

CONFIG = """
    triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
    conversation: {follow_up_s: 0}
"""


def status_of(path: Path) -> dict[str, Any]:
    try:
        return query_status(path, timeout=1.0)
    except (OSError, ValueError):
        return {}


def wait_status(path: Path, state: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status_of(path).get("state") == state:
            return True
        time.sleep(0.05)
    return False


def test_sighup_with_a_broken_config_keeps_running_and_sigterm_mid_answer_exits_0_fast(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="long", audio=tone_pcm(10000), pace_s=0.05))
    path = write_config(tmp_path, fake_openai, CONFIG)
    good = path.read_text()
    sock = tmp_path / "status.sock"
    pcm = concat(silence(LEAD_S * 1000 + 2500), speech("Tell me everything."),
                 silence(15000)).data
    args = build_parser().parse_args(["--config", str(path), "run"])
    results: dict[str, Any] = {}

    def operator() -> None:
        # what an owner does over ssh, from another thread while main runs the hub
        try:
            results["idle"] = wait_status(sock, "idle", LEAD_S + 5)
            path.write_text(good.replace("mode: realtime", "mode: [broken"))
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.5)
            results["after_hup"] = status_of(sock)
            path.write_text(good)
            results["speaking"] = wait_status(sock, "speaking", 15)
            time.sleep(0.5)
            results["term_at"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGTERM)
        except BaseException as exc:  # noqa: BLE001 - reported below
            results["error"] = exc
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=operator, name="operator")
    with FifoFeeder(alsa_files.infile, pcm, RATE, chunk_ms=PERIOD_MS):
        helper.start()
        code = args.handler(args)
        returned_at = time.monotonic()
        helper.join(5)
    assert "error" not in results, results
    assert results["idle"] is True
    assert results["after_hup"].get("state") == "idle", results["after_hup"]
    assert results["speaking"] is True
    assert code == 0
    assert returned_at - results["term_at"] < 2.0
    messages = [r.getMessage() for r in caplog.records]
    assert any("config reload failed; still running on the previous config" in m
               for m in messages)
    assert sum("hub started" in m for m in messages) == 1, "the bad reload restarted the hub"
    assert not sock.exists()
