"""The owner's edit flow against a running hub, as the systemd unit drives it.

``maigic run`` runs as a real process (file-plugin ALSA fed in real time, mock GPIO) with
``NOTIFY_SOCKET`` pointing at a socket this test reads, like systemd's. The test edits the YAML
the way ``maigic pair`` does (comments kept), checks it with ``maigic config check``, and
reloads with the unit's own ``ExecReload`` command (``/bin/kill -HUP $MAINPID``): the hub must
answer RELOADING=1 then READY=1 and apply the file; a broken edit must be refused while the
hub keeps running; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.commands.yaml_edit import update_file
from tests.alsa.alsa_harness import CAPTURE_PCM, PLAYBACK_PCM, FifoFeeder, alsa_env
from tests.deploy.test_unit import unit_lines

RATE = 16000


class NotifyListener:
    """The systemd side of sd_notify: collects the hub's datagrams."""

    def __init__(self, path: Path, log_path: Path) -> None:
        self.path = path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[str] = []

    def wait_for(self, field: str, timeout: float) -> list[str]:
        """Messages up to and including the first containing ``field`` (e.g. ``READY=1``)."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the hub exited ({self.process.returncode}) waiting for "
                                     f"{field}:\n{self.log_path.read_text(errors='replace')}")
            self.sock.settimeout(min(0.5, max(0.01, deadline - time.monotonic())))
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.messages.append(message)
            seen.append(message)
            if field in message.splitlines():
                return seen
        raise AssertionError(f"no {field} within {timeout} s; got {seen}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def hub_config(repo: Path, tmp_path: Path) -> Path:
    """The shipped default config, pointed at the test devices, no GPIO, no wake word."""
    path = tmp_path / "maigic.yaml"
    shutil.copy(repo / "config/maigic.yaml", path)
    update_file(path, {
        "audio.capture.device": CAPTURE_PCM,
        "audio.playback.device": PLAYBACK_PCM,
        "triggers.button.enabled": False,
        "triggers.wake_word.enabled": False,
        "feedback.led": False,
        "status.socket": str(tmp_path / "run" / "status.sock"),  # not the host's /run/maigic
    })
    return path


@pytest.fixture
def running_hub(hub_config: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes],
                                                                   NotifyListener, Path]]:
    log_path = tmp_path / "hub.log"
    notify = NotifyListener(tmp_path / "notify.sock", log_path)
    env = {
        **os.environ,
        **alsa_env(tmp_path / "mic.fifo", tmp_path / "played.wav"),
        "NOTIFY_SOCKET": str(notify.path),
        "GPIOZERO_PIN_FACTORY": "mock",
    }
    # silence at wall-clock rate for longer than the test runs
    with FifoFeeder(tmp_path / "mic.fifo", bytes(RATE * 2 * 120), RATE), \
            log_path.open("wb") as log:
        hub = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "--config", str(hub_config), "run"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        notify.process = hub
        try:
            yield hub, notify, log_path
        finally:
            if hub.poll() is None:
                hub.kill()
            hub.wait(timeout=10)
            notify.close()


def reload_like_systemd(repo: Path, pid: int) -> None:
    exec_reload = unit_lines((repo / "deploy/systemd/maigic.service").read_text())["ExecReload"]
    command = exec_reload[0].replace("$MAINPID", str(pid)).split()
    subprocess.run(command, check=True, timeout=10)


def config_check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", "config", "check", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)


def wait_for_log(log_path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout} s:\n{log_path.read_text()}")


@pytest.mark.slow
def test_edit_check_reload_and_stop(
    repo: Path, hub_config: Path,
    running_hub: tuple[subprocess.Popen[bytes], NotifyListener, Path],
) -> None:
    hub, notify, log_path = running_hub
    notify.wait_for("READY=1", timeout=90)

    # a good edit: comments kept, the check passes, the hub reloads and applies it
    comments_before = [line for line in hub_config.read_text().splitlines() if "#" in line]
    update_file(hub_config, {"conversation.follow_up_s": 2.5})
    assert len([line for line in hub_config.read_text().splitlines() if "#" in line]) == len(
        comments_before)
    checked = config_check(hub_config)
    assert checked.returncode == 0, checked.stderr
    reload_like_systemd(repo, hub.pid)
    seen = notify.wait_for("READY=1", timeout=60)
    assert any("RELOADING=1" in m.splitlines() for m in seen)
    wait_for_log(log_path, f"config reloaded from {hub_config}", timeout=30)

    # a broken edit: the check says why, the hub refuses it and keeps running
    update_file(hub_config, {"mode": "realtme"})
    checked = config_check(hub_config)
    assert checked.returncode == 1
    assert "expected one of realtime, chained, transcribe, local" in checked.stderr
    reload_like_systemd(repo, hub.pid)
    notify.wait_for("READY=1", timeout=60)
    wait_for_log(log_path, "config reload failed; still running on the previous config", 30)
    assert hub.poll() is None

    hub.send_signal(signal.SIGTERM)  # systemctl stop
    assert hub.wait(timeout=30) == 0
    notify.process = None
    if not any("STOPPING=1" in m.splitlines() for m in notify.messages):
        notify.wait_for("STOPPING=1", timeout=5)
