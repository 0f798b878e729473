"""Bounded resources: a provider that sends audio much faster than real time, for many
minutes of audio, cannot make the hub's memory grow (audio is dropped, never control):
the realtime event queue and the playback buffer drop their oldest audio, and the
Session drops reply audio while the Playback actor's inbox is backed up.

The fake server runs in its own process (``tests/chaos/flood_server.py``) so this
process's RSS is the hub's. Also checks each buffer's own limit and overflow policy.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from actors.session import MAX_PLAYBACK_BACKLOG
from actors.wiring import PLAYBACK
from drivers.openai.event_queue import EventQueue
from runtime.hub import Hub
from speech_api.events import AudioDelta, ResponseDone
from tests.chaos.devices import Mic, Speaker
from tests.chaos.harness import build_hub, load_chaos_config
from tests.chaos.procstat import rss_kib
from tests.fakes.openai_server import DEFAULT_API_KEY
from tests.local.speech import concat, flite, silence

FLOOD_MINUTES = 10  # of 24 kHz audio: 28.8 MB of PCM, 38 MB of base64 JSON
REPO = Path(__file__).resolve().parents[2]


def inbox_size(hub: Hub, role: str) -> int:
    ref = hub.wiring.peers.get(role) if hub.wiring is not None else None
    qsize = getattr(ref.actor_inbox, "qsize", None) if ref is not None else None
    return int(qsize()) if callable(qsize) else 0


class FloodServer:
    """The flood server process; ``sent_bytes`` follows its progress reports."""

    def __init__(self, minutes: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.flood_server", str(minutes)], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().split()
        assert first[:1] == ["url"], f"flood server did not start: {first}"
        self.base_url = first[1]
        self.sent_bytes = 0
        self._reader = threading.Thread(target=self._read, name="flood-progress", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            words = line.split()
            if words[:1] == ["deltas"]:
                self.sent_bytes += int(words[3])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)


@pytest.mark.timeout(300)
def test_audio_flood_keeps_memory_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_API_KEY)
    server = FloodServer(FLOOD_MINUTES)
    mic, speaker = Mic(speed=4), Speaker(speed=1)
    hub = build_hub(load_chaos_config(tmp_path, server.base_url), mic, speaker)
    samples: list[tuple[float, int]] = []
    backlog: list[int] = []  # reply messages waiting in the Playback actor's inbox
    try:
        hub.start()
        assert hub.wait_for_state("idle", 20), hub.state
        baseline = rss_kib()
        mic.say(concat(silence(200), flite("Tell me everything."), silence(1200)).data)
        assert hub.wait_for_state("speaking", 20), hub.state
        deadline = time.monotonic() + 150
        total = FLOOD_MINUTES * 60 * 48000
        while server.sent_bytes < total * 0.95 and time.monotonic() < deadline:
            time.sleep(0.5)
            samples.append((server.sent_bytes / 48000, rss_kib() - baseline))
            backlog.append(inbox_size(hub, PLAYBACK))
        time.sleep(2)  # let the last of it arrive
        samples.append((server.sent_bytes / 48000, rss_kib() - baseline))
        assert hub.ping_all(timeout=5), "an actor stopped answering under the flood"
        assert hub.state == "speaking", hub.state  # still playing the flood
        # the link held: the hub pings while it has nothing to send (the mic is closed
        # while it answers), or the fake server drops it after 30 s of silence
        assert not any("link: lost" in r.getMessage() for r in caplog.records)
    finally:
        hub.stop()
        server.close()
    print(f"\naudio sent (s) vs hub RSS growth (KiB): {samples[::max(1, len(samples) // 12)]}")
    print(f"playback inbox backlog (messages): {backlog[::max(1, len(backlog) // 12)]}")
    sent_s = samples[-1][0]
    # audio stops being sent at the limit; the writer's own progress reports (never dropped)
    # still land in the same inbox, so allow a little above it. Unbounded grew past 500.
    assert max(backlog) <= MAX_PLAYBACK_BACKLOG + 20, backlog
    assert sent_s > FLOOD_MINUTES * 60 * 0.9, f"only {sent_s:.0f} s of audio arrived"
    # 10 minutes of audio arrived in far less time; the hub kept at most its buffers
    # (10 s playback buffer, 500 queued deltas), not the 19 MB it makes at 16 kHz.
    assert max(growth for _, growth in samples) < 12 * 1024, samples


def test_event_queue_drops_oldest_audio_never_control() -> None:
    queue = EventQueue(max_audio=5)
    for index in range(50):
        queue.put(AudioDelta(response_id="r", item_id="i", content_index=0, pcm=bytes([index] * 2)))
        if index % 10 == 0:
            queue.put(ResponseDone(response_id=f"r{index}"))
    drained = []
    while (event := queue.get(0)) is not None:
        drained.append(event)
    audio = [e for e in drained if isinstance(e, AudioDelta)]
    control = [e for e in drained if isinstance(e, ResponseDone)]
    assert [a.pcm[0] for a in audio] == [45, 46, 47, 48, 49]  # the newest five
    assert [c.response_id for c in control] == [f"r{i}" for i in range(0, 50, 10)]
    assert queue.dropped_audio == 45
