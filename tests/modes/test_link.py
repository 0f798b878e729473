"""The provider link state machine: its retry schedule, its log, and a real storm server."""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from pathlib import Path

import pytest

from actors.engines.link import LinkPolicy, LinkState, ProviderLink, StandingLink
from runtime.engine_factory import EngineContext
from speech_api.errors import APIError
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import running_hub, write_config
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ALWAYS_LISTENING, ModeHub, run_until_idle


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def attempts_in(link: ProviderLink, clock: FakeClock, seconds: float,
                session_s: float) -> list[float]:
    """Drive the link as its runner does against a server whose every session opens,
    is ready, and fails after ``session_s``: the attempt times within ``seconds``."""
    times = []
    while clock.now < seconds:
        times.append(clock.now)
        link.attempt()
        link.ready()
        clock.now += session_s
        link.failed("closed by the server")
        clock.now += link.retry_in()
    return times


@pytest.mark.parametrize("session_s", [0.0, 0.5, 3.0])
def test_sessions_that_die_young_are_retried_on_a_growing_capped_backoff(
        session_s: float) -> None:
    for seed in range(20):
        clock = FakeClock()
        link = ProviderLink(clock=clock, rng=random.Random(seed))
        times = attempts_in(link, clock, 60.0, session_s)
        assert len(times) <= 12, times
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps[-1] - session_s > 4 * (gaps[0] - session_s), gaps  # the waits grew
        assert max(gaps) <= LinkPolicy().max_s * (1 + LinkPolicy().jitter) + session_s


def test_a_healthy_session_resets_the_backoff_and_a_rejection_waits_minutes() -> None:
    clock = FakeClock()
    link = ProviderLink(clock=clock, rng=random.Random(1))
    for _ in range(5):
        link.failed("refused")
    assert link.retry_in() > 10
    link.ready()
    clock.now += LinkPolicy().stable_s  # up long enough to count as healthy
    link.failed("dropped")
    assert link.retry_in() <= LinkPolicy().initial_s * (1 + LinkPolicy().jitter)
    link.failed("invalid_api_key", fatal=True)
    assert link.state is LinkState.REJECTED
    assert link.retry_in() == pytest.approx(LinkPolicy().rejected_retry_s)
    assert not link.may_try()
    clock.now += LinkPolicy().rejected_retry_s
    assert link.may_try()


def test_one_log_line_per_state_change(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    link = ProviderLink(clock=clock, rng=random.Random(2), name="realtime")
    with caplog.at_level(logging.DEBUG, logger="actors.engines.link"):
        for _ in range(6):
            link.attempt()
            link.failed("refused")  # the same state: DEBUG only
        link.ready()
        link.failed("dropped")
        link.failed("invalid_api_key", fatal=True)
        link.failed("invalid_api_key", fatal=True)
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert list(link.changes) == [LinkState.CONNECTING, LinkState.RETRYING, LinkState.ONLINE,
                                  LinkState.RETRYING, LinkState.REJECTED]
    assert len(loud) == len(link.changes) - 1, [r.getMessage() for r in loud]
    assert "rejected (invalid_api_key)" in loud[-1].getMessage()


def test_a_server_closing_after_session_update_is_not_stormed_and_the_user_is_answered(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_openai.script.close_after_session_update = True
    context = EngineContext()
    run = ModeHub(tmp_path, fake_openai, "fallback: {enabled: true}", context)
    pcm = concat(silence(1500), flite("what time is it"), silence(6000)).data
    started = time.monotonic()
    with caplog.at_level(logging.INFO), running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 30)  # answered locally although the provider never gets ready
        elapsed = time.monotonic() - started
        connections = fake_openai.realtime_connections
        snapshot = context.link.snapshot()
    assert run.heard()[0] == "what time is it"
    # the most attempts the policy allows in that time (the shortest jittered delays)
    policy, bound = LinkPolicy(), 2
    while sum(min(policy.max_s, policy.initial_s * policy.factor ** i) * (1 - policy.jitter)
              for i in range(bound - 1)) < elapsed:
        bound += 1
    assert 2 <= connections <= bound, (connections, elapsed)
    assert snapshot["online"] is False and snapshot["state"] == "retrying"
    lines = [r.getMessage() for r in caplog.records if r.name == "actors.engines.link"]
    assert len(lines) == 1, lines  # CONNECTING -> RETRYING, once; retries are quiet
    provider = [r.getMessage() for r in caplog.records if r.name.startswith("drivers.openai")]
    assert provider == [], provider  # nor does the driver log each short-lived session
    assert "closing right after session.update" in lines[0]


def test_run_until_idle_exits_against_the_storm_server(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.close_after_session_update = True
    path = write_config(tmp_path, fake_openai, ALWAYS_LISTENING + "fallback: {enabled: true}")
    assert run_until_idle(path, tmp_path / "question.wav", flite("what time is it")) == 0
    assert 2 <= fake_openai.realtime_connections <= 6


def test_chained_local_stt_uses_the_local_settings_and_the_one_loaded_decoder(
    tmp_path: Path, fake_openai: FakeOpenAIServer,
) -> None:
    from actors.engines.chained import ChainedEngine
    from actors.engines.fallback import FallbackEngine
    from actors.engines.stages import WatchedTranscriber
    from actors.engines.transcribers import ClipTranscriber
    from drivers.local.lazy_stt import LazySpeechToText
    from drivers.local.stt_process import ChildProcessSpeechToText
    from runtime.engine_factory import EngineMaker, WithSkills, engine_maker
    from tests.e2e.hubtest import load

    config = load(write_config(tmp_path, fake_openai, """
mode: chained
chained: {stt: {provider: local}}
local: {stt: {grammar: false}}
fallback: {enabled: true}
"""))
    maker = engine_maker(config)
    assert isinstance(maker, EngineMaker) and maker.local is not None
    engine = maker()
    try:
        assert isinstance(engine, WithSkills) and isinstance(engine.inner, FallbackEngine)
        chained = engine.inner.online
        assert isinstance(chained, ChainedEngine) and isinstance(chained.stt, WatchedTranscriber)
        heard_by = chained.stt.inner  # the stage's health record wraps the transcriber
        assert isinstance(heard_by, ClipTranscriber)
        assert heard_by.client is maker.local.stt is engine.inner.local.stt  # one decoder
        # loaded beside the start (READY waits for no model); pocketsphinx decodes aside
        assert isinstance(maker.local.stt, LazySpeechToText)
        assert isinstance(maker.local.stt.client(), ChildProcessSpeechToText)
    finally:
        engine.close()


@pytest.mark.parametrize(("mode", "online", "said"), [
    ("realtime", True, "I am in realtime mode. I am online."),
    ("realtime", False, "I am in realtime mode. I am offline."),
    ("local", False, "I am in local mode. I am offline."),
])
def test_the_status_skill_says_online_or_offline_as_the_link_is(
    mode: str, online: bool, said: str, tmp_path: Path, fake_openai: FakeOpenAIServer,
) -> None:
    from drivers.local.skills import SkillRegistry
    from runtime.engine_factory import build_engine
    from tests.e2e.hubtest import load

    config = load(write_config(tmp_path, fake_openai, f"mode: {mode}"))
    context = EngineContext()
    if online:
        context.link.ready()
    else:
        context.link.failed("invalid_api_key", fatal=True)
    engine = build_engine(config, context)
    try:
        with SkillRegistry(context.skill_context) as skills:
            result = skills.handle_utterance("what's your status")
    finally:
        engine.close()
    assert result is not None and result.speech == said


class _DroppedDuringSetup:
    """A session that connected, then lost its connection before session.update went out
    (what the driver raises then: the session already knows it is closed)."""

    def __init__(self) -> None:
        self.closed_by_link = threading.Event()

    def initialize_session(self) -> None:
        raise APIError("cannot send session.update: the realtime link is down",
                       provider="openai", code="session_closed", retryable=False)

    def close(self) -> None:
        self.closed_by_link.set()


def test_a_connection_dropped_during_the_setup_is_retried_soon_and_its_session_closed(
        caplog: pytest.LogCaptureFixture) -> None:
    sessions: list[_DroppedDuringSetup] = []

    def open_session() -> _DroppedDuringSetup:
        sessions.append(_DroppedDuringSetup())
        return sessions[-1]

    link = ProviderLink(name="realtime")
    standing = StandingLink(link, open_session, lambda _event: None,  # type: ignore[arg-type]
                            lambda _state, _why: None)
    standing.start()
    try:
        assert link.wait_for(LinkState.RETRYING, 5)
        assert sessions and sessions[0].closed_by_link.wait(5), "its threads would leak"
        assert link.state is LinkState.RETRYING  # not REJECTED: nothing was refused
        assert link.retry_in() <= LinkPolicy().initial_s * (1 + LinkPolicy().jitter)
    finally:
        standing.close()
    assert not [r for r in caplog.records if "rejected" in r.getMessage()]
