"""One `maigic run --input FILE --until-idle` of the real hub on the default local engines."""

from __future__ import annotations

import logging
import re
import textwrap
from pathlib import Path

import pytest

from runtime.cli import build_parser

SAID = re.compile(r"^user said: (.*)$")
SUPERSEDED = "the transcript above is superseded"
CONFIG = """
mode: local
audio:
  capture: {sample_rate: 16000, period_ms: 20}
  playback: {device: testplay, sample_rate: 16000, period_ms: 20}
triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
feedback: {earcons: false, led: false}
logging: {conversation: true}
"""


def run_hub_on(tmp_path: Path, audio: Path, caplog: pytest.LogCaptureFixture,
               extra: str = "") -> list[str]:
    """What the hub heard in each turn of ``audio`` (the shipped defaults, always listening;
    ``extra``: more YAML lines)."""
    config = tmp_path / "maigic.yaml"
    config.write_text(textwrap.dedent(CONFIG) + f"status: {{socket: {tmp_path / 's.sock'}}}\n"
                      + extra)
    caplog.set_level(logging.INFO)
    caplog.clear()
    args = build_parser().parse_args(
        ["run", "--config", str(config), "--input", str(audio), "--until-idle"])
    assert args.handler(args) == 0
    log = [r.getMessage() for r in caplog.records]
    engines = [line for line in log if line.startswith("local speech-to-text: ")]
    assert engines and engines[0].startswith("local speech-to-text: faster_whisper"), engines
    return final_transcripts(log)


def final_transcripts(log: list[str]) -> list[str]:
    """Each turn's last word on what was said: a transcript the hub superseded (the user
    went on speaking and the whole turn was heard again) is not counted twice."""
    said: list[str] = []
    for line in log:
        if match := SAID.match(line):
            said.append(match.group(1))
        elif line.startswith("the user went on speaking") and SUPERSEDED in line and said:
            said.pop()
    return said
