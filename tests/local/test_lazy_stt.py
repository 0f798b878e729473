"""The standby recogniser: nothing loaded until needed, a background preload, errors on use."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.local.lazy_stt import LazySpeechToText
from speech_api import AudioChunk, BlockingSpeechToTextClient, RealtimeSessionConfig
from speech_api.events import TranscriptionEvent

ROOT = Path(__file__).resolve().parents[2]


class Counting(BlockingSpeechToTextClient):
    made = 0

    def __init__(self) -> None:
        type(self).made += 1

    def transcribe_blocking(self, audio: AudioChunk, language: str | None = None,
                            prompt: str | None = None) -> str:
        return f"{len(audio.data)} bytes"

    def transcribe_stream_blocking(self, audio: AudioChunk, language: str | None = None,
                                   prompt: str | None = None) -> Iterator[str]:
        yield "partial"

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        yield TranscriptionEvent("x", is_final=True)

    def supported_languages(self) -> list[str]:
        return ["en"]


def test_loads_once_on_first_use() -> None:
    Counting.made = 0
    lazy = LazySpeechToText(Counting)
    assert not lazy.loaded and Counting.made == 0
    chunk = AudioChunk.pcm(b"\x00\x00" * 10, 16000)
    assert lazy.transcribe_blocking(chunk) == "20 bytes"
    assert list(lazy.transcribe_stream_blocking(chunk)) == ["partial"]
    assert lazy.supported_languages() == ["en"]
    assert lazy.loaded and Counting.made == 1


def test_preload_loads_in_the_background_and_use_waits_for_it() -> None:
    Counting.made = 0
    gate, loading = threading.Event(), threading.Event()

    def slow() -> BlockingSpeechToTextClient:
        loading.set()
        gate.wait(60)  # set by the test; 5 s ran out once on a loaded CI machine
        return Counting()

    def preloads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "stt-preload"}

    others = preloads()  # an earlier test's hub may still be loading its own
    lazy = LazySpeechToText(slow)
    lazy.preload()
    assert loading.wait(30), "the background load did not start"
    # again while the load is under way: returns at once (the link calls it from an
    # actor's thread), it does not wait for the load nor start a second one
    again = threading.Thread(target=lazy.preload, name="second-preload")
    again.start()
    again.join(10)
    assert not again.is_alive(), "preload() waited for the load in progress"
    assert not lazy.loaded
    assert len(preloads() - others) == 1
    gate.set()
    lazy.close()
    assert lazy.loaded and Counting.made == 1
    assert not preloads() - others, "close() left this engine's loader running"
    assert lazy.client() is lazy.client() and Counting.made == 1


def test_a_failed_load_is_raised_when_a_turn_needs_the_engine() -> None:
    def broken() -> BlockingSpeechToTextClient:
        raise ValueError("no model here")

    lazy = LazySpeechToText(broken)
    lazy.preload()
    lazy.close()  # the background failure is logged, not raised
    with pytest.raises(ValueError, match="no model here"):
        lazy.transcribe_blocking(AudioChunk.pcm(b"", 16000))


def test_realtime_mode_keeps_the_offline_recogniser_unloaded(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("mode: realtime\nopenai: {base_url: 'http://127.0.0.1:9/v1'}\n")
    code = (
        "import sys\n"
        "from runtime.config import load_config\n"
        "from runtime.hub_parts import build_parts\n"
        f"parts = build_parts(load_config({str(config)!r}).config, open_led=False)\n"
        "engine = parts.engine()\n"
        "print('pocketsphinx' in sys.modules)\n"
        "engine.close()\n"
    )
    env = {"OPENAI_API_KEY": "sk-test", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_local_mode_loads_its_recogniser_beside_the_start(tmp_path: Path) -> None:
    """Building the parts does not wait for the model (READY does not), yet nothing had to
    ask for it: the load started by itself and is done when the hub waits for it."""
    from drivers.local.stt_process import ChildProcessSpeechToText
    from runtime.config import load_config
    from runtime.engine_factory import load_local_parts

    config = tmp_path / "c.yaml"
    config.write_text("mode: local\nlocal: {stt: {engine: pocketsphinx, grammar: false}}\n")
    parts = load_local_parts(load_config(config).config, "")
    stt = parts.stt
    assert isinstance(stt, LazySpeechToText)
    stt.close()  # waits for the background load: no turn asked for the engine
    try:
        assert stt.loaded
        assert stt.transcribe_blocking(AudioChunk.pcm(bytes(3200), 16000)) == ""
    finally:
        client = stt.client()
        assert isinstance(client, ChildProcessSpeechToText)
        client.close()


def test_abort_reaches_a_loaded_engine() -> None:
    aborted = threading.Event()

    class Aborting(Counting):
        def abort(self) -> None:
            aborted.set()

    lazy = LazySpeechToText(Aborting)
    lazy.abort()  # nothing loaded: nothing to stop
    assert not aborted.is_set()
    lazy.client()
    lazy.abort()
    assert aborted.is_set()
