"""Spoken volume and mute commands change the running hub (not just the skill's answer)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.modes.test_demo import demo, field


def test_turn_down_the_volume_lowers_the_hubs_speaker_level(tmp_path: Path) -> None:
    done = demo("--workdir", str(tmp_path), "--question", "turn down the volume")
    assert done.returncode == 0, done.stdout + done.stderr
    # config/maigic.yaml has audio.playback.volume 0.8: one step down is 70 %
    assert field(done.stdout, "answer") == "Volume 70 percent."


def test_spoken_mute_mutes_the_hub_after_saying_so(tmp_path: Path) -> None:
    done = demo("--workdir", str(tmp_path), "--question", "mute the microphone")
    assert done.returncode == 0, done.stdout + done.stderr
    assert field(done.stdout, "answer") == "Muted."
    log = done.stderr
    assert re.search(r"state SPEAKING -> MUTED \(answer played; muted as asked\)", log), log
