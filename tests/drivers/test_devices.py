"""Device discovery and ``maigic devices`` through real alsa-lib and real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.devices import DeviceReport, discover, format_report, list_bluealsa_pcms
from tests.alsa.alsa_harness import AlsaFiles, alsa_env, base_alsa_env

REPO = Path(__file__).resolve().parents[2]

BLUEALSA_APLAY_L = """\
bluealsa:DEV=00:1B:66:AA:BB:CC,PROFILE=sco,SRV=org.bluealsa
    Jabra Talk 45, trusted audio-headset, playback
    SCO (CVSD): S16_LE 1 channel 8000 Hz
bluealsa:DEV=00:1B:66:AA:BB:CC,PROFILE=a2dp,SRV=org.bluealsa
    Jabra Talk 45, trusted audio-headset, playback
    A2DP (SBC): S16_LE 2 channels 48000 Hz
"""


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "devices", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def clean_env() -> dict[str, str]:
    """The caller's environment on the tests' base ALSA config (an empty machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALSA_")}
    env["PYTHONPATH"] = str(REPO)
    return env | base_alsa_env()


def test_no_sound_card_prints_none_found_and_exits_0() -> None:
    # The tests' base ALSA config has no sound card and lists only "null".
    result = run_cli(env=clean_env())
    assert result.returncode == 0, result.stderr
    assert "Capture devices:\n  (none found)" in result.stdout
    assert "No sound devices found" in result.stdout


def test_json_output_on_an_empty_machine() -> None:
    result = run_cli("--json", env=clean_env())
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["capture"] == [] and payload["playback"] == []
    assert any("No sound devices" in n for n in payload["notes"])


def test_test_pcms_are_listed_with_what_they_accept(alsa_files: AlsaFiles) -> None:
    alsa_files.infile.write_bytes(bytes(64000))
    report = discover()
    names = {d.name for d in report.capture}
    assert {"testcap", "testplay"} <= names
    cap = next(d for d in report.capture if d.name == "testcap")
    assert cap.usable and cap.channels == (1, 2) and cap.rate_range is not None
    assert not cap.is_bluetooth
    assert report.usable
    assert "testcap" in format_report(report)


def test_a_device_that_cannot_open_says_why(alsa_files: AlsaFiles) -> None:
    report = discover()  # the capture infile does not exist
    cap = next(d for d in report.capture if d.name == "testcap")
    assert not cap.usable and cap.error is not None and "No such file" in cap.error
    assert "cannot open: No such file" in format_report(report)


def test_cli_lists_devices_from_the_asoundrc(tmp_path: Path) -> None:
    env = clean_env() | alsa_env(tmp_path / "i.raw", tmp_path / "o.wav")
    result = run_cli("--no-probe", env=env)
    assert result.returncode == 0, result.stderr
    assert "  testplay" in result.stdout


@pytest.fixture
def fake_bluealsa_aplay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``bluealsa-aplay`` on PATH printing what the real one prints (-L)."""
    script = tmp_path / "bin" / "bluealsa-aplay"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{BLUEALSA_APLAY_L}EOF\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:{os.environ['PATH']}")
    return script


def test_bluealsa_earpieces_are_recognised(fake_bluealsa_aplay: Path) -> None:
    pcms = list_bluealsa_pcms()
    assert pcms == [
        ("bluealsa:DEV=00:1B:66:AA:BB:CC,PROFILE=sco,SRV=org.bluealsa",
         "Jabra Talk 45, trusted audio-headset, playback"),
        ("bluealsa:DEV=00:1B:66:AA:BB:CC,PROFILE=a2dp,SRV=org.bluealsa",
         "Jabra Talk 45, trusted audio-headset, playback"),
    ]
    report = discover(probe=False)
    assert [d.bluetooth_profile for d in report.capture] == ["sco"]  # A2DP has no microphone
    assert [d.bluetooth_profile for d in report.playback] == ["sco", "a2dp"]
    text = format_report(report)
    assert "bluetooth SCO" in text and "Jabra Talk 45" in text


def test_probe_of_an_unconnected_earpiece_explains_the_alsa_error(
    fake_bluealsa_aplay: Path,
) -> None:
    report = discover(probe=True)
    sco = report.capture[0]
    assert not sco.usable and sco.error  # no bluealsa plugin/daemon here
    assert "cannot open" in format_report(report)
    assert not DeviceReport().usable
