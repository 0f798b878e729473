"""The hub's status snapshot, served on its owner-only socket while ``Hub.run`` runs."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from runtime.engine_factory import EngineMaker
from runtime.hub import Hub, HubControl
from runtime.status import query_status
from runtime.status_snapshot import status_snapshot
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.e2e.hubtest import RATE, load, write_config
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ALWAYS_LISTENING


def test_a_running_local_hub_answers_maigic_status_after_a_turn(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    config = load(write_config(tmp_path, fake_openai, ALWAYS_LISTENING + "mode: local\n"))
    hub = Hub(config)
    control = HubControl()
    pcm = concat(silence(600), flite("what time is it"), silence(8000)).data
    with FifoFeeder(alsa_files.infile, pcm, RATE):
        runner = threading.Thread(target=hub.run, args=(control,), name="test-hub-run")
        runner.start()
        try:
            assert hub.wait_for_state("speaking", 20)
            assert hub.wait_for_state("idle", 10)
            status = query_status(config.status.socket)
            mode = stat.S_IMODE(config.status.socket.stat().st_mode)
        finally:
            control.stop.set()
            runner.join(10)
    assert not runner.is_alive()
    assert mode == 0o600
    assert status["state"] == "idle" and status["mode"] == "local"
    assert status["devices"] == ["capture", "playback"]
    assert status["online"] is False and status["provider"]["used"] is False
    assert 0 < status["last_turn"]["first_written"] < 10000
    assert status["errors"] == {"provider": 0}
    assert not config.status.socket.exists(), "the socket outlived the hub"


def test_the_snapshot_shows_an_outage_and_what_answers_meanwhile(
    tmp_path: Path, fake_openai: FakeOpenAIServer,
) -> None:
    config = load(write_config(tmp_path, fake_openai, "fallback: {enabled: true}\n"))
    hub = Hub(config)
    assert isinstance(hub.parts.engine, EngineMaker)
    link = hub.parts.engine.context.link
    connecting = status_snapshot(hub)
    link.failed("invalid_api_key: Incorrect API key provided", fatal=True)
    link.offline_turn()
    offline = status_snapshot(hub)
    link.ready()
    online = status_snapshot(hub)
    assert connecting["provider"]["answers"] == "offline skills (fallback)"
    assert connecting["online"] is False and connecting["provider"]["link"] == "connecting"
    assert offline["provider"]["link"] == "rejected" and offline["provider"]["retry_in_s"] > 60
    assert offline["online"] is False
    assert offline["provider"]["reachable"] is False
    assert offline["provider"]["answers"] == "offline skills (fallback)"
    assert offline["provider"]["last_error"].startswith("invalid_api_key")
    assert offline["provider"]["offline_turns"] == 1
    assert offline["errors"] == {"provider": 1}
    assert online["provider"]["answers"] == "online" and online["online"] is True
    assert online["provider"]["base_url"] == fake_openai.base_url
