"""The seed's four examples, run as scripts against the fake server on real speech."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from speech_api.audio import load_audio
from tests.fakes.openai_script import Reply
from tests.fakes.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]
SPEECH = Path(
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
)


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech")
    speech = load_audio(SPEECH)
    files = {"wav": SPEECH}
    for suffix, fmt, subtype in [
        ("flac", "FLAC", "PCM_16"),
        ("ogg", "OGG", "VORBIS"),
        ("mp3", "MP3", "MPEG_LAYER_III"),
    ]:
        files[suffix] = folder / f"speech.{suffix}"
        soundfile.write(
            files[suffix], speech.to_numpy(), speech.sample_rate, format=fmt, subtype=subtype
        )
    return files


def run_example(
    server: FakeOpenAIServer, name: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": server.api_key}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--base-url", server.base_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd="/",
        check=False,
    )


def test_batch_transcription_on_every_format(
    server: FakeOpenAIServer, audio_files: dict[str, Path]
) -> None:
    server.script.transcript = "the family of dashwood"
    paths = [str(audio_files[s]) for s in ("wav", "mp3", "flac", "ogg")]
    result = run_example(server, "batch_transcription.py", *paths, "--language", "en")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines == [f"{p}: the family of dashwood" for p in paths]


def test_streaming_transcription(server: FakeOpenAIServer, audio_files: dict[str, Path]) -> None:
    server.script.transcript = "had long been settled"
    result = run_example(server, "streaming_transcription.py", str(audio_files["flac"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Partial: had",
        "Partial: had long",
        "Partial: had long been",
        "Partial: had long been settled",
        "Final: had long been settled",
    ]


def test_realtime_transcription(server: FakeOpenAIServer, audio_files: dict[str, Path]) -> None:
    server.script.transcript = "in sussex"
    result = run_example(server, "realtime_transcription.py", str(audio_files["ogg"]), "--manual")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Final: in sussex"
    assert "Live: in" in result.stdout


def test_integration_tour_saves_the_spoken_answer(
    server: FakeOpenAIServer, audio_files: dict[str, Path], tmp_path: Path
) -> None:
    server.script.add_reply(Reply(text="Nice to meet you."))
    out = tmp_path / "reply.wav"
    result = run_example(
        server, "openai_integration_example.py", str(audio_files["mp3"]), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "STT: hello world" in result.stdout
    assert "Realtime: answer completed: Nice to meet you." in result.stdout
    assert load_audio(out).sample_rate == 24000


def test_a_wrong_key_is_one_clear_line_and_exit_1(
    server: FakeOpenAIServer, audio_files: dict[str, Path]
) -> None:
    result = run_example(
        server,
        "batch_transcription.py",
        str(audio_files["wav"]),
        "--api-key",
        "sk-example-wrong-key-1234567890",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "401" in result.stderr
    assert "sk-example-wrong-key-1234567890" not in result.stderr
