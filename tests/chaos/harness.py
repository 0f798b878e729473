"""A whole hub under fire: real actors, real drivers, fake devices and a fake provider.

:class:`ChaosRig` runs the real :class:`runtime.hub.Hub` (always listening, local VAD,
realtime mode) against the fake OpenAI server through the real websocket client,
with the real ALSA drivers on a :class:`~tests.chaos.devices.Mic` and
:class:`~tests.chaos.devices.Speaker` (accelerated). :meth:`ChaosRig.turn` speaks
one question, applies one fault and reports what became of the turn. A watchdog
thread records a hang whenever a state lasts longer than its limit or an actor stops
answering pings; a log handler counts actor failures, restarts and tracebacks.
Everything kept per turn is a counter, so thousands of turns use flat memory.
"""

from __future__ import annotations

import logging
import os
import random
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from drivers.alsa import AlsaCapture, AlsaPlayback
from runtime.config import HubConfig, load_config
from runtime.hub import Hub
from runtime.hub_parts import build_parts
from tests.chaos.devices import Mic, Speaker
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence

RATE = 16000
QUIET = ("idle", "offline")
# Longest a state may last before the watchdog calls it a hang (seconds, wall clock).
STATE_LIMITS = {"listening": 20.0, "thinking": 25.0, "speaking": 30.0, "offline": 60.0,
                "muted": 5.0}
PROVIDER_FAULTS = ("none", "drop_before", "drop_during", "drop_after", "refuse", "slow",
                   "burst_429", "burst_500")
DEVICE_FAULTS = ("capture_vanish", "playback_vanish")


def config_text(base_url: str, status_socket: Path, extra: str = "") -> str:
    """The chaos config; ``extra`` adds top-level sections (not ones already here)."""
    return textwrap.dedent(extra) + textwrap.dedent(f"""
        mode: realtime
        audio:
          capture: {{device: chaos-mic, sample_rate: {RATE}, period_ms: 20}}
          playback: {{device: chaos-speaker, sample_rate: {RATE}, period_ms: 20,
                      buffer_ms: 10000}}
        triggers: {{always_listening: true, wake_word: {{enabled: false}},
                    button: {{enabled: false}}}}
        conversation: {{follow_up_s: 0, think_timeout_s: 15}}
        openai:
          base_url: {base_url}
          realtime: {{turn_detection: none}}
        feedback: {{earcons: false, led: false}}
        status: {{socket: {status_socket}}}
        local: {{stt: {{engine: pocketsphinx}}}}  # the offline answers: the quick recogniser
    """)


def load_chaos_config(tmp_path: Path, base_url: str, extra: str = "") -> HubConfig:
    path = tmp_path / "maigic.yaml"
    path.write_text(config_text(base_url, tmp_path / "status.sock", extra))
    return load_config(path).config


def build_hub(config: HubConfig, mic: Mic, speaker: Speaker) -> WatchedHub:
    """The hub of ``config`` with its ALSA drivers opening ``mic`` and ``speaker``."""
    cap, out = config.audio.capture, config.audio.playback
    parts = replace(
        build_parts(config),
        capture=lambda: AlsaCapture(cap.device, cap.sample_rate, cap.channels, cap.period_ms,
                                    pcm_factory=mic),
        playback=lambda on_written, on_idle: AlsaPlayback(
            out.device, out.sample_rate, out.channels, out.period_ms,
            max_buffer_ms=out.buffer_ms, pcm_factory=speaker,
            on_written=on_written, on_idle=on_idle),
    )
    return WatchedHub(config, parts)


class WatchedHub(Hub):
    """The real hub, counting how often each state was entered and why."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered: Counter[str] = Counter()
        self.answers_played = 0

    def _on_state(self, state: str, cause: str) -> None:
        super()._on_state(state, cause)
        self.entered[state] += 1
        if cause.startswith("answer played"):
            self.answers_played += 1


class EventCounter(logging.Handler):
    """Counts actor failures, restarts and unexpected tracebacks in the log."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.last_tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "actor restarted" in message:
            self.counts["restarts"] += 1
        if "actor failed" in message:
            self.counts["actor_failures"] += 1
        if record.exc_info and record.levelno >= logging.ERROR:
            self.counts["tracebacks"] += 1
            if len(self.last_tracebacks) < 5:
                self.last_tracebacks.append(f"{record.name}: {message}")
        if record.levelno >= logging.CRITICAL:
            self.counts["critical"] += 1


class Watchdog:
    """Fails (records a hang) on any state stuck past its limit or an actor not answering."""

    def __init__(self, hub: WatchedHub, limits: dict[str, float] | None = None) -> None:
        self.hub = hub
        self.limits = limits or STATE_LIMITS
        self.hangs: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the chaos watchdog did not stop"

    def _run(self) -> None:
        next_ping = time.monotonic()
        while not self._stop.wait(0.25):
            state, since = self.hub.state, self.hub.state_since
            stuck = time.monotonic() - since
            if stuck > self.limits.get(state, float("inf")):
                self.hangs.append(f"{state} for {stuck:.1f} s")
                self.hub.state_since = time.monotonic()  # report each stuck stretch once
            if time.monotonic() >= next_ping:
                next_ping = time.monotonic() + 2.0
                if self.hub.wiring is not None and not self.hub.ping_all(timeout=5.0):
                    self.hangs.append("an actor did not answer a ping within 5 s")


@dataclass
class Tally:
    """What happened over a run (the chaos summary's row)."""

    name: str
    turns_attempted: int = 0
    answered: int = 0
    answered_locally: int = 0
    unanswered_attempts: int = 0  # tries that got no answer (retried once the provider is back)
    lost_turns: int = 0  # questions never answered, even after retries
    faults: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def row(self, rig: ChaosRig) -> dict[str, Any]:
        return {
            "run": self.name, "turns_attempted": self.turns_attempted, "answered": self.answered,
            "answered_locally": self.answered_locally,
            "unanswered_attempts": self.unanswered_attempts, "lost_turns": self.lost_turns,
            "crashes": rig.crashes(), "actor_restarts": rig.log.counts["restarts"],
            "hangs": len(rig.watchdog.hangs), "capture_vanished": rig.mic.vanished,
            "playback_vanished": rig.speaker.vanished,
            "provider_connections": rig.server.realtime_connections,
            "faults": dict(sorted(self.faults.items())), "seconds": round(self.seconds, 1),
        }


@dataclass
class Outcome:
    row: dict[str, Any]
    hangs: list[str]
    tracebacks: list[str]

    def assert_survived(self) -> None:
        """No hang, crash, traceback or restart, and no question left unanswered."""
        row = self.row
        assert self.hangs == [], self.hangs
        assert row["crashes"] == 0 and self.tracebacks == [], self.tracebacks
        assert row["actor_restarts"] == 0, row
        assert row["lost_turns"] == 0, row
        assert row["answered"] + row["answered_locally"] == row["turns_attempted"], row


class ChaosRig:
    """Hub + fake server + fake devices + watchdog; use as a context manager."""

    def __init__(self, tmp_path: Path, server: FakeOpenAIServer, *, speed: float | None = None,
                 seed: int = 10, question: str = "What time is it in Paris?",
                 extra_config: str = "") -> None:
        self.server = server
        self.rng = random.Random(seed)
        # devices run faster than real time (MAIGIC_CHAOS_SPEED, default 4x)
        speed = speed or float(os.environ.get("MAIGIC_CHAOS_SPEED", "4"))
        self.mic = Mic(RATE, speed=speed)
        self.speaker = Speaker(speed=speed)
        self.question = concat(silence(200), flite(question), silence(1200)).data
        server.script.default_reply = Reply(text="ok", audio=tone_pcm(300))
        config = load_chaos_config(tmp_path, server.base_url, extra_config)
        self.hub = build_hub(config, self.mic, self.speaker)
        self.log = EventCounter()
        self.watchdog = Watchdog(self.hub)
        self._timers: list[threading.Timer] = []

    def __enter__(self) -> ChaosRig:
        logging.getLogger().addHandler(self.log)
        self.hub.start()
        self.watchdog.__enter__()
        if not self.hub.wait_for_state("idle", 20):
            raise AssertionError(f"the hub never got ready: {self.hub.state}")
        return self

    def __exit__(self, *exc: object) -> None:
        for timer in self._timers:
            timer.cancel()
            timer.join(5)
        try:
            self.watchdog.__exit__()
        finally:
            self.hub.stop()
            logging.getLogger().removeHandler(self.log)

    def result(self, tally: Tally, started: float) -> Outcome:
        """The run's summary row, its hangs and the first tracebacks (call before exit)."""
        tally.seconds = time.monotonic() - started
        return Outcome(tally.row(self), list(self.watchdog.hangs),
                       list(self.log.last_tracebacks))

    def crashes(self) -> int:
        c = self.log.counts
        return c["actor_failures"] + c["critical"] + (self.hub.fatal_reason is not None)

    # --- one turn ---------------------------------------------------------------------

    def turn(self, tally: Tally, fault: str, *, retries: int = 4) -> None:
        """Ask the question under ``fault``; retry while the provider is away."""
        tally.turns_attempted += 1
        tally.faults[fault] += 1
        for attempt in range(retries + 1):
            outcome = self._attempt(fault if attempt == 0 else "none")
            if outcome != "unanswered":
                tally.answered += outcome == "online"
                tally.answered_locally += outcome == "local"
                if fault == "drop_after":
                    self.server.drop_realtime_connections()
                return
            tally.unanswered_attempts += 1
            self._wait_quiet(60, want="idle")  # the provider is back (or a restart settled)
        tally.lost_turns += 1

    def _attempt(self, fault: str) -> str:
        self._wait_quiet(60)
        if fault in PROVIDER_FAULTS and fault != "none":
            # a drop must have a link to cut; the link's backoff (up to 15 s between tries)
            # may take a while to find the provider back after the last fault's refusals
            self._wait_connected(60)
        played, online_replies = self.hub.answers_played, self._server_replies()
        self._apply(fault)
        self.mic.say(self.question)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            time.sleep(0.02)
            if self.mic.pending_ms == 0 and self.hub.state in QUIET and \
                    time.monotonic() - self.hub.state_since > 0.3:
                break
        if self.hub.answers_played == played:
            return "unanswered"
        return "online" if self._server_replies() > online_replies else "local"

    def _server_replies(self) -> int:
        with self.server._lock:  # count, then forget the frames: memory stays flat
            frames = self.server.frames
            replies = sum(1 for f in frames if f.direction == "out" and f.type == "response.done"
                          and f.payload.get("response", {}).get("status") == "completed")
            frames.clear()
            self.server.requests.clear()
            self._replies_seen = getattr(self, "_replies_seen", 0) + replies
        return self._replies_seen

    def _wait_connected(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.server._live:
            time.sleep(0.05)
        self._wait_quiet(timeout, want="idle")

    def _wait_quiet(self, timeout: float, want: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.hub.state
            if (state == want if want else state in QUIET) and \
                    time.monotonic() - self.hub.state_since > 0.2:
                return
            time.sleep(0.05)

    def _apply(self, fault: str) -> None:
        script, rng = self.server.script, self.rng
        script.accept_websockets()  # each fault stands alone: no refusals left from the last
        if fault == "drop_before":
            self.server.drop_realtime_connections()
        elif fault == "drop_during":
            script.add_reply(Reply(text="x", audio=tone_pcm(1500), pace_s=0.03,
                                   drop_after_audio_deltas=rng.randint(1, 8)))
        elif fault == "refuse":
            script.reject_websocket(503, times=rng.randint(2, 5))
            self.server.drop_realtime_connections()
        elif fault in ("burst_429", "burst_500"):
            script.reject_websocket(int(fault[-3:]), times=rng.randint(2, 6))
            self.server.drop_realtime_connections()
        elif fault == "slow":
            script.add_reply(Reply(text="ok", audio=tone_pcm(300), think_s=rng.uniform(1, 4)))
        elif fault == "capture_vanish":
            self._later(rng.uniform(0, 0.6), lambda: self.mic.vanish(rng.uniform(0.05, 0.5)))
        elif fault == "playback_vanish":
            script.add_reply(Reply(text="x", audio=tone_pcm(1200), pace_s=0.02))
            self._later(rng.uniform(0.5, 1.2), lambda: self.speaker.vanish(rng.uniform(0.05, 0.4)))

    def _later(self, delay: float, action: Any) -> None:
        self._timers = [t for t in self._timers if t.is_alive()]
        timer = threading.Timer(delay, action)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()


def chaos_turns(default: int) -> int:
    """``MAIGIC_CHAOS_TURNS`` overrides; ``MAIGIC_CHAOS_LONG=1`` means the 100-turn run."""
    if os.environ.get("MAIGIC_CHAOS_TURNS"):
        return int(os.environ["MAIGIC_CHAOS_TURNS"])
    return 100 if os.environ.get("MAIGIC_CHAOS_LONG") == "1" else default
