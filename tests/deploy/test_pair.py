"""``maigic pair`` against fake bluetoothctl/bluealsa-aplay, writing into the real default
config, which must still load and keep every comment."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.cli import main
from runtime.commands.pair import choose_device
from runtime.commands.yaml_edit import YamlEditError, lookup, set_value, update_file
from runtime.config import load_config
from tests.deploy.fake_tools import MAC, NAME, install_fake_tools

PCM = f"bluealsa:DEV={MAC},PROFILE=sco"


@pytest.fixture
def bluez(tmp_path: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "bt-state"
    install_fake_tools(fake_bin, state)
    monkeypatch.setenv("FAKE_BT_STATE", str(state))
    monkeypatch.setenv("FAKE_MAC", MAC)
    monkeypatch.setenv("FAKE_NAME", NAME)
    return state


@pytest.fixture
def config(repo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "maigic.yaml"
    shutil.copy(repo / "config/maigic.yaml", path)
    path.chmod(0o640)
    return path


def pair(config: Path, *args: str) -> int:
    # --config after the subcommand, as people type it (the doctor tests put it first)
    return main(["pair", "--config", str(config), "--hfp-timeout", "2", *args])


def comments(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def test_pair_by_address_writes_the_pcm_and_keeps_comments(
    bluez: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bluez / "known").touch()
    before = config.read_text()
    assert pair(config, MAC.lower()) == 0
    out = capsys.readouterr().out
    assert f"Paired {MAC}" in out and f"Connected {MAC}" in out
    assert f"Hands-free audio available: {PCM}" in out
    after = config.read_text()
    assert comments(after) == comments(before)
    # only the two device values changed, line for line
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 2
    assert all(f'device: "{PCM}"' in new for _, new in changed)
    loaded = load_config(config).config
    assert loaded.audio.capture.device == PCM == loaded.audio.playback.device
    assert config.stat().st_mode & 0o777 == 0o640
    # pairing again changes nothing and says so
    assert pair(config, MAC) == 0
    assert "Already set in" in capsys.readouterr().out
    assert config.read_text() == after


def test_pair_by_scanning_picks_the_only_headset(
    bluez: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pair(config, "--scan-seconds", "1") == 0
    out = capsys.readouterr().out
    assert f"Found headset {NAME} ({MAC})" in out
    assert load_config(config).config.audio.capture.device == PCM


def test_several_headsets_ask_which_one(
    bluez: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_TWO_HEADSETS", "1")
    assert choose_device(0.1, ask=lambda prompt: "2") == "11:22:33:44:55:66"
    out = capsys.readouterr().out
    assert f"  1. {NAME} ({MAC}) [headset]" in out
    assert "  2. Spare headset (11:22:33:44:55:66) [headset]" in out
    with pytest.raises(ValueError, match="expected a number from 1 to 2, found '9'"):
        choose_device(0.1, ask=lambda prompt: "9")


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("FAKE_PAIR_FAILS", "pairing 00:1B:66:AA:BB:CC failed: Failed to pair: "
                            "org.bluez.Error.AuthenticationFailed. Put the earpiece in pairing"),
        ("FAKE_NO_HFP", "is connected but bluealsa offers no hands-free (SCO) audio for it: "
                        "check the bluealsa override is installed"),
    ],
)
def test_failures_explain_what_to_do_and_leave_the_config_alone(
    bluez: Path, config: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], failure: str, expected: str
) -> None:
    (bluez / "known").touch()
    monkeypatch.setenv(failure, "1")
    before = config.read_text()
    assert pair(config, MAC) == 1
    assert expected in capsys.readouterr().err
    assert config.read_text() == before


def test_bad_address_and_missing_bluez(
    config: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert pair(config, "not-a-mac") == 1
    assert "expected a Bluetooth address like 00:1B:66:AA:BB:CC" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(fake_bin))  # nothing installed
    assert pair(config, MAC) == 1
    assert "'bluetoothctl' not found; install it with: sudo apt-get install bluez" in (
        capsys.readouterr().err)


def test_set_value_inserts_missing_keys_under_their_parent() -> None:
    text = "mode: local   # the mode\naudio:\n  playback:\n    volume: 0.5 # loud\n"
    out = set_value(text, "audio.capture.device", "hw:1")
    assert lookup(out, "audio.capture.device") == "hw:1"
    assert lookup(out, "audio.playback.volume") == 0.5
    assert "# the mode" in out and "# loud" in out
    out = set_value(out, "triggers.button.pin", 5)
    assert lookup(out, "triggers.button.pin") == 5
    empty_value = set_value("audio:\n  capture:\n    device:\n", "audio.capture.device", "x")
    assert lookup(empty_value, "audio.capture.device") == "x"


def test_set_value_refuses_what_it_cannot_edit_safely() -> None:
    with pytest.raises(YamlEditError, match="expected a single value, found a section"):
        set_value("audio:\n  capture:\n    device: a\n", "audio.capture", "x")
    with pytest.raises(YamlEditError, match="inline"):
        set_value("audio: {capture: {device: a}}\n", "audio.capture.device", "x")
    with pytest.raises(YamlEditError, match="not valid YAML"):
        set_value("audio: [\n", "audio.capture.device", "x")


def test_update_file_reports_no_change(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('audio:\n  capture:\n    device: "hw:1"   # card one\n')
    assert update_file(path, {"audio.capture.device": "hw:1"}) is False
    assert update_file(path, {"audio.capture.device": "hw:2"}) is True
    assert path.read_text() == 'audio:\n  capture:\n    device: "hw:2"   # card one\n'


@given(st.text(min_size=1, max_size=40))
def test_any_device_name_round_trips(name: str) -> None:
    text = "# top\naudio:\n  capture:\n    device: default  # mic\n  playback: {}\n"
    out = set_value(text, "audio.capture.device", name)
    assert lookup(out, "audio.capture.device") == name
    assert out.startswith("# top\n") and out.count("# mic") == 1
