"""The tests' own ALSA config keeps the machine's ALSA files out of every test.

A machine with libasound2-plugins or pulseaudio installed, an /etc/asound.conf or a
~/.asoundrc used to change what ``maigic devices`` (and so the tests) saw. The stock
alsa.conf loads those files through its @hooks; the tests' base config has none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.alsa.alsa_harness import BASE_CONF, base_alsa_env

REPO = Path(__file__).resolve().parents[2]
STOCK_CONF = "/usr/share/alsa/alsa.conf"


def user_alsa_files(home: Path) -> dict[str, str]:
    """A HOME with a ~/.asoundrc and an $XDG_CONFIG_HOME/alsa/asoundrc, each adding a PCM."""
    (home / ".asoundrc").write_text("pcm.from_home_asoundrc { type null }\n")
    xdg = home / "xdg"
    (xdg / "alsa").mkdir(parents=True)
    (xdg / "alsa" / "asoundrc").write_text("pcm.from_xdg_asoundrc { type null }\n")
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}


def listed_pcms(env: dict[str, str]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "devices", "--json", "--no-probe"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    return {d["name"] for d in payload["capture"] + payload["playback"]}


def test_every_test_runs_on_the_tests_own_alsa_config() -> None:
    assert os.environ["ALSA_CONFIG_PATH"] == str(BASE_CONF)  # set by tests/conftest.py


def test_user_alsa_files_do_not_reach_a_subprocess_of_the_tests(tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(REPO)} | user_alsa_files(tmp_path)
    # The stock config reads both files (so they are real ALSA config a machine could have) ...
    stock = listed_pcms(env | {"ALSA_CONFIG_PATH": STOCK_CONF})
    assert {"from_home_asoundrc", "from_xdg_asoundrc"} <= stock
    # ... the tests' config reads neither: the machine looks empty.
    assert listed_pcms(env | base_alsa_env()) == set()
