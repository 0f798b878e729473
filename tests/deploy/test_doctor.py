"""``maigic doctor`` end to end: real config loader, real alsa-lib (file plugin), real gpiozero
(MockFactory), the fake OpenAI server over HTTP, and fake system programs on PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.alsa import AlsaCapture, DeviceLostError
from runtime.cli import main
from runtime.status import StatusServer
from tests.alsa.alsa_harness import CAPTURE_PCM, PLAYBACK_PCM, noise_pcm, use_alsa_files
from tests.deploy.fake_tools import MAC, NAME, install_fake_tools
from tests.fakes.openai_server import FakeOpenAIServer

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def machine(tmp_path: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A healthy machine: file-plugin audio, mock GPIO, systemd and BlueZ that answer."""
    infile = tmp_path / "mic.raw"
    infile.write_bytes(noise_pcm(16000, 2.0))
    use_alsa_files(monkeypatch, infile, tmp_path / "played.wav")
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    state = tmp_path / "bt-state"
    install_fake_tools(fake_bin, state)
    monkeypatch.setenv("FAKE_BT_STATE", str(state))
    monkeypatch.setenv("FAKE_MAC", MAC)
    monkeypatch.setenv("FAKE_NAME", NAME)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


def write_config(directory: Path, base_url: str, key: str, *, capture: str = CAPTURE_PCM,
                 playback: str = PLAYBACK_PCM, key_mode: int = 0o600, extra: str = "") -> Path:
    key_file = directory / "openai.key"
    key_file.write_text(key + "\n")
    key_file.chmod(key_mode)
    config = directory / "maigic.yaml"
    config.write_text(
        "mode: realtime\n"
        "audio:\n"
        f"  capture:\n    device: {capture}\n    sample_rate: 16000\n"
        f"  playback:\n    device: {playback}\n    sample_rate: 16000\n"
        f"openai:\n  base_url: {base_url}\n  api_key_file: {key_file}\n"
        f"status:\n  socket: {directory / 'status.sock'}\n" + extra
    )
    return config


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """Exit code and each check's line (with its fix) by check name."""
    code = main(["--config", str(config), "doctor", "--timeout", "3"])
    out = capsys.readouterr().out
    lines: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        match = re.match(r"^\[(ok|warn|FAIL|skip)\s*\] (\S+(?: key)?)\s", line.replace("[ ", "["))
        if match:
            name = match.group(2)
            lines[name] = line
        elif line.startswith(" ") and name:
            lines[name] += "\n" + line
    return code, lines


def verdicts(lines: dict[str, str]) -> dict[str, str]:
    return {name: line.split("]")[0].strip("[ ") for name, line in lines.items()}


def test_all_green(machine: Path, server: FakeOpenAIServer,
                   capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(machine, server.base_url, server.api_key)
    code, lines = doctor(config, capsys)
    assert verdicts(lines) == {
        "config": "ok", "api key": "ok", "capture": "ok", "playback": "ok",
        "earpiece": "skip", "gpio": "ok", "provider": "ok", "service": "ok", "hub": "skip",
        "clock": "ok",
    }, "\n".join(lines.values())
    assert code == 0
    assert "read 20 ms at 16000 Hz" in lines["capture"]
    assert "button GPIO17, led GPIO27" in lines["gpio"]
    assert f"{server.base_url} reachable, key accepted" in lines["provider"]
    assert "active, enabled" in lines["service"]
    assert (machine / "played.wav").stat().st_size > 44  # the silence really went to ALSA


def test_bad_key_is_rejected_and_never_printed(
    machine: Path, server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "sk-wrong-key-abcdef0123456789"
    config = write_config(machine, server.base_url, wrong)
    code, lines = doctor(config, capsys)
    assert code == 1
    assert verdicts(lines)["provider"] == "FAIL"
    assert "rejected the API key (HTTP 401)" in lines["provider"]
    assert "fix: put a valid key in the key file" in lines["provider"]
    assert wrong not in "\n".join(lines.values())


def test_key_readable_by_others(machine: Path, server: FakeOpenAIServer,
                                capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(machine, server.base_url, server.api_key, key_mode=0o644)
    code, lines = doctor(config, capsys)
    assert code == 1
    assert "readable by others (mode 644)" in lines["api key"]
    assert f"fix: sudo chmod 600 {machine / 'openai.key'}" in lines["api key"]


def test_no_key_at_all(machine: Path, server: FakeOpenAIServer,
                       capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(machine, server.base_url, server.api_key)
    config.write_text(config.read_text().replace(f"api_key_file: {machine / 'openai.key'}",
                                                 "api_key_file: null"))
    code, lines = doctor(config, capsys)
    assert code == 1
    assert "mode 'realtime' needs an OpenAI API key; none is set" in lines["api key"]
    assert "fix: sudo deploy/install.sh --api-key-file FILE" in lines["api key"]
    assert "rejected the API key (HTTP 401)" in lines["provider"]  # sent without a key


def test_missing_device(machine: Path, server: FakeOpenAIServer,
                        capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(machine, server.base_url, server.api_key, capture="nosuchpcm")
    code, lines = doctor(config, capsys)
    assert code == 1
    assert verdicts(lines)["capture"] == "FAIL"
    assert "audio device 'nosuchpcm' unavailable" in lines["capture"]
    assert "set audio.capture.device" in lines["capture"]
    assert verdicts(lines)["playback"] == "ok"


def test_device_held_by_the_running_hub_is_not_a_failure(
    machine: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    def busy(self: AlsaCapture) -> None:
        raise DeviceLostError(self.device, "Device or resource busy")

    monkeypatch.setattr(AlsaCapture, "open", busy)
    config = write_config(machine, server.base_url, server.api_key)
    code, lines = doctor(config, capsys)
    assert code == 0
    assert f"{CAPTURE_PCM} is in use (by the running hub?)" in lines["capture"]


def test_unreachable_provider(machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAIServer() as gone:
        url = gone.base_url  # a port that was just in use and now refuses connections
    config = write_config(machine, url, "sk-anything")
    code, lines = doctor(config, capsys)
    assert code == 1
    assert f"cannot reach {url}" in lines["provider"]
    assert "fix: check the network" in lines["provider"]


def test_bad_config(machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = machine / "maigic.yaml"
    config.write_text("mode: realtme\naudio:\n  capture:\n    sample_rate: fast\n")
    code, lines = doctor(config, capsys)
    assert code == 1
    assert "mode: expected one of realtime, chained, transcribe, local" in lines["config"]
    assert "(and 1 more)" in lines["config"]
    assert f"fix: edit {config}, then run 'maigic config check {config}'" in lines["config"]
    for name in ("api key", "capture", "playback", "earpiece", "gpio", "provider", "hub"):
        assert "needs a valid config" in lines[name]


@pytest.mark.parametrize(
    ("state", "verdict", "expected"),
    [
        ("IDLE", "ok", "state IDLE, mode local, devices open: capture, playback"),
        ("OFFLINE", "warn", "state OFFLINE, mode local, devices open: capture, playback "
                            "(provider unreachable: timed out)"),
    ],
)
def test_hub_reports_over_its_status_socket(
    machine: Path, capsys: pytest.CaptureFixture[str], state: str, verdict: str, expected: str
) -> None:
    config = machine / "maigic.yaml"
    socket_path = machine / "run" / "status.sock"
    config.write_text(f"mode: local\nstatus:\n  socket: {socket_path}\n")
    snapshot = {"state": state, "cause": "provider unreachable: timed out", "mode": "local",
                "devices": ["capture", "playback"]}
    server = StatusServer(socket_path, lambda: snapshot)
    server.start()
    try:
        main(["--config", str(config), "doctor", "--skip", "capture", "--skip", "playback",
              "--skip", "gpio"])
    finally:
        server.stop()
    line = next(x for x in capsys.readouterr().out.splitlines() if "] hub" in x)
    assert line.startswith(f"[{verdict:^4}] hub")
    assert expected in line


def test_system_state_failures(machine: Path, server: FakeOpenAIServer,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FAKE_ACTIVE", "failed")
    monkeypatch.setenv("FAKE_NTP", "no")
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY")  # this machine has no GPIO at all
    config = write_config(machine, server.base_url, server.api_key)
    code, lines = doctor(config, capsys)
    assert code == 1
    assert "journalctl -u maigic.service" in lines["service"]
    assert "not synchronised" in lines["clock"] and "timedatectl set-ntp true" in lines["clock"]
    assert "no GPIO on this machine" in lines["gpio"]
    assert "start limit" not in lines["service"]


def test_start_limit_advice_resets_the_failed_state(
        machine: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # after StartLimitBurst crashes a plain restart is refused until reset-failed
    monkeypatch.setenv("FAKE_ACTIVE", "failed")
    monkeypatch.setenv("FAKE_RESULT", "start-limit-hit")
    code, lines = doctor(write_config(machine, server.base_url, server.api_key), capsys)
    assert code == 1
    assert "start limit hit" in lines["service"]
    advice = "sudo systemctl reset-failed maigic.service && sudo systemctl restart"
    assert advice in lines["service"]


def test_unsynchronised_clock_is_only_a_warning_offline(
        machine: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FAKE_NTP", "no")
    config = write_config(machine, server.base_url, server.api_key)
    config.write_text(config.read_text().replace("mode: realtime", "mode: local"))
    _, lines = doctor(config, capsys)
    assert verdicts(lines)["clock"] == "warn"
    assert "mode 'local' is offline" in lines["clock"]


@pytest.mark.parametrize("command", [["doctor"], ["config", "check"], ["status"]])
def test_a_user_outside_the_group_gets_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    # /etc/maigic is root:maigic 0750: an ordinary user cannot even look inside it, and
    # pathlib's is_dir() raised PermissionError there. Root ignores permissions, so as root the
    # command runs as 'nobody' (setpriv); otherwise as the current user.
    conf_dir = tmp_path / "etc-maigic"
    conf_dir.mkdir()
    (conf_dir / "maigic.yaml").write_text("mode: local\n")
    conf_dir.chmod(0o700)
    tmp_path.chmod(0o755)
    argv = [sys.executable, "-m", "runtime.cli", "--config", str(conf_dir / "maigic.yaml"),
            *command]
    if os.geteuid() == 0:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                          cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"run 'sudo maigic {' '.join(command)}'" in done.stderr
    assert "Permission denied" in done.stderr


@pytest.mark.parametrize(
    ("steps", "env", "verdict", "expected"),
    [
        (["known", "paired", "trusted", "connected"], {}, "ok",
         f"{NAME} ({MAC}) connected, HFP available"),
        (["known", "paired", "trusted"], {}, "FAIL", f"{NAME} ({MAC}) is not connected"),
        (["known", "paired", "trusted", "connected"], {"FAKE_NO_HFP": "1"}, "FAIL",
         "connected, but without hands-free (HFP) audio"),
        ([], {}, "FAIL", f"{MAC} is not paired"),
    ],
)
def test_earpiece(machine: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str], steps: list[str], env: dict[str, str],
                  verdict: str, expected: str) -> None:
    for step in steps:
        (machine / "bt-state" / step).touch()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = write_config(machine, server.base_url, server.api_key)
    text = config.read_text()
    # the earpiece named in the config; the ALSA checks are left out (no bluealsa here)
    config.write_text(text.replace(f"device: {CAPTURE_PCM}",
                                   f"device: bluealsa:DEV={MAC},PROFILE=sco"))
    code = main(["--config", str(config), "doctor", "--skip", "capture", "--skip", "playback"])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "] earpiece" in line)
    assert f"[{verdict:^4}] earpiece" in line
    assert expected in line
    assert code == (0 if verdict == "ok" else 1)
