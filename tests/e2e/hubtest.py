"""Helpers for driving a whole hub in a test: config, input speech, output checks."""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.config import HubConfig, load_config
from runtime.hub import Hub
from speech_api import AudioChunk
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder, read_played_wav
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence

RATE = 16000
PERIOD_MS = 20
LEAD_S = 3.0  # silence before every test input, while the hub connects


def write_config(tmp_path: Path, server: FakeOpenAIServer, extra: str = "") -> Path:
    """A realtime-mode config on the test PCMs and the fake server; ``extra`` YAML overrides."""
    base = f"""
    mode: realtime
    audio:
      capture: {{device: testcap, sample_rate: {RATE}, period_ms: {PERIOD_MS}}}
      playback: {{device: testplay, sample_rate: {RATE}, period_ms: {PERIOD_MS}}}
    openai:
      base_url: {server.base_url}
      realtime: {{turn_detection: none}}
    feedback: {{earcons: false, led: false}}
    fallback: {{enabled: false}}
    status: {{socket: {tmp_path / "status.sock"}}}
    local: {{stt: {{engine: pocketsphinx}}}}  # fast and exact on the flite commands here;
                                              # whisper: tests/realspeech, tests/local
    """
    path = tmp_path / "maigic.yaml"
    path.write_text(_merge(textwrap.dedent(base), textwrap.dedent(extra)))
    return path


def _merge(base: str, extra: str) -> str:
    import yaml

    merged = yaml.safe_load(base)
    for key, value in (yaml.safe_load(extra) or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep(merged[key], value)
        else:
            merged[key] = value
    return str(yaml.safe_dump(merged))


def _deep(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        out[key] = _deep(old, value) if isinstance(old, dict) and isinstance(value, dict) \
            else value
    return out


def load(path: Path) -> HubConfig:
    return load_config(path).config


def question(text: str = "What time is it in Paris right now?", lead_ms: int = 600,
             tail_ms: int = 12000) -> bytes:
    """Spoken ``text`` (flite) between silences, as 16 kHz PCM16 for the capture FIFO."""
    return concat(silence(lead_ms), flite(text), silence(tail_ms)).data


def speech(text: str) -> AudioChunk:
    return concat(flite(text))


@contextmanager
def running_hub(hub: Hub, files: AlsaFiles, pcm: bytes) -> Iterator[FifoFeeder]:
    """The hub running on ``pcm`` fed in real time; stopped (and checked) on exit.

    ``LEAD_S`` of silence go first, and the hub must be idle (provider connected)
    before they end, so the test's own timeline starts with a ready hub.
    """
    lead = bytes(int(RATE * LEAD_S) * 2)
    with FifoFeeder(files.infile, lead + pcm, RATE, chunk_ms=PERIOD_MS) as feeder:
        hub.start()
        try:
            assert hub.wait_for_state("idle", LEAD_S - 0.3), \
                f"the hub was not idle {LEAD_S - 0.3} s after starting (state {hub.state})"
            yield feeder
        finally:
            hub.stop()
        assert feeder.error is None, feeder.error


def at(feeder: FifoFeeder, seconds: float) -> None:
    """Sleep until ``seconds`` into the test's input (after the lead silence)."""
    while not feeder.started_at_ns:
        time.sleep(0.005)
    time.sleep(max(0.0, feeder.started_at_ns / 1e9 + LEAD_S + seconds - time.monotonic()))


def played(files: AlsaFiles) -> AudioChunk:
    return read_played_wav(files.outfile)


def loud_ms(chunk: AudioChunk, threshold: float = 1000.0) -> int:
    """Milliseconds of ``chunk`` whose 10 ms RMS is above ``threshold``."""
    samples = chunk.to_numpy()[:, 0].astype(np.float64)
    frame = chunk.sample_rate // 100
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    return int(np.sum(np.sqrt(np.mean(frames**2, axis=1)) > threshold)) * 10


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Transitions:
    """The 'state A -> B (cause)' lines the Controller logged, in order."""

    records: list[logging.LogRecord]

    def states(self) -> list[str]:
        out = []
        for r in self.records:
            if r.name == "actors.conversation" and r.msg.startswith("state "):
                out.append(str(r.args[1]) if isinstance(r.args, tuple) else "")
        return out
