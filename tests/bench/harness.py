"""The parent side of a measured hub run: fake server, FIFO-paced microphone, child process.

:func:`run_scenario` starts the fake OpenAI server on 127.0.0.1 (zero think
time unless the scenario's reply says otherwise), writes the hub's config
(real alsa-lib file-plugin PCMs, see ``tests/alsa``), feeds the scenario's input
into the capture FIFO in real time and runs :mod:`tests.bench.child` (the real
actor graph, probed) under an optional CPU limit. Every clock is
``CLOCK_MONOTONIC``, shared by both processes, so a sample's position in the
input (``feeder_start_ns + offset``) compares directly with the child's stamps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.alsa.alsa_harness import FifoFeeder, alsa_env
from tests.bench.cpulimit import CpuLimit, limited_popen
from tests.e2e.hubtest import load, write_config
from tests.fakes.openai_script import Reply
from tests.fakes.openai_server import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
RATE = 16000
PERIOD_MS = 20
STOP_BEFORE_END_S = 1.0  # stop the child before the FIFO runs dry (alsa-lib then repeats data)
CHILD_EXIT_TIMEOUT_S = 60.0

ALWAYS_LISTENING = """
triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
conversation: {follow_up_s: 0}
"""


@dataclass(frozen=True)
class Mark:
    """A known event in the input: ``kind`` at ``ms`` from the input's start."""

    kind: str  # "onset" / "end" of an utterance, "barge" onset of an interruption
    ms: float


@dataclass
class Scenario:
    name: str
    pcm: bytes  # 16 kHz mono PCM16 for the capture FIFO
    marks: list[Mark] = field(default_factory=list)
    config: str = ALWAYS_LISTENING  # YAML merged over the realtime test config
    reply: Reply = field(default_factory=Reply)
    sample_s: float = 5.0  # how often the child samples its CPU time and RSS
    record: bool = True  # False: no per-event stamps (they would grow the RSS measured)

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / RATE


@dataclass
class ChildRun:
    scenario: Scenario
    child: dict[str, Any]  # what tests/bench/child.py wrote
    feeder_start_ns: int
    limit: str
    server_in: list[tuple[str, int]]  # (type, received ns) of frames the server got
    stderr_tail: str
    endpoint_ms: int  # conversation.endpoint_silence_ms of the config the hub ran

    def input_ns(self, ms: float) -> int:
        """When the sample ``ms`` into the input entered the FIFO's real-time stream."""
        return self.feeder_start_ns + int(ms * 1e6)


class ChildFailedError(RuntimeError):
    pass


def child_env(infile: Path, outfile: Path, api_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(alsa_env(infile, outfile))
    env["OPENAI_API_KEY"] = api_key
    env["PYTHONPATH"] = str(REPO)
    return env


def run_scenario(scenario: Scenario, limit: CpuLimit | None = None) -> ChildRun:
    """Run the scenario's input through a probed hub in a child process."""
    with tempfile.TemporaryDirectory(prefix=f"maigic-bench-{scenario.name}-") as tmp, \
            FakeOpenAIServer() as server:
        work = Path(tmp)
        server.script.default_reply = scenario.reply
        config = write_config(work, server, scenario.config)
        endpoint_ms = load(config).conversation.endpoint_silence_ms
        out, log_path = work / "child.json", work / "child.log"
        infile, outfile = work / "capture.fifo", work / "played.wav"
        argv = [sys.executable, "-m", "tests.bench.child", str(config), str(out),
                "--seconds", str(scenario.seconds + 30), "--sample-s", str(scenario.sample_s),
                *([] if scenario.record else ["--no-records"])]
        with FifoFeeder(infile, scenario.pcm, RATE, chunk_ms=PERIOD_MS) as feeder, \
                log_path.open("wb") as log_file, \
                limited_popen(argv, limit, env=child_env(infile, outfile, server.api_key),
                              stdout=log_file, stderr=subprocess.STDOUT) as (proc, how):
            _wait_for_input_end(feeder, proc, len(scenario.pcm))
            proc.terminate()
            code = proc.wait(timeout=CHILD_EXIT_TIMEOUT_S)
        tail = log_path.read_text(errors="replace")[-3000:]
        if code != 0 or not out.exists():
            raise ChildFailedError(f"{scenario.name}: the hub child exited with {code}:\n{tail}")
        frames = [(f.type or "", int(f.at * 1e9)) for f in server.frames_of("in", "realtime")
                  if f.type != "input_audio_buffer.append"]
        return ChildRun(scenario, json.loads(out.read_text()), feeder.started_at_ns, how,
                        frames, tail, endpoint_ms)


def _wait_for_input_end(feeder: FifoFeeder, proc: subprocess.Popen[bytes], total: int) -> None:
    stop_at = total - int(STOP_BEFORE_END_S * RATE * 2)
    deadline = time.monotonic() + total / 2 / RATE + 120
    while feeder.bytes_written < stop_at:
        if proc.poll() is not None:
            return  # died early: reported by the caller
        if time.monotonic() > deadline:
            raise ChildFailedError("the FIFO feeder fell far behind the input")
        time.sleep(0.1)
