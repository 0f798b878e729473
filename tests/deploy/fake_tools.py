"""Fake system programs for ``maigic doctor`` and ``maigic pair`` tests (``fake_programs/``).

bluetoothctl, bluealsa-aplay, systemctl and timedatectl behave like the real ones from the
outside (arguments, output format, exit codes). The Bluetooth fakes keep their state in files
under ``$FAKE_BT_STATE`` (known, paired, trusted, connected), so a pair/trust/connect sequence is
remembered between calls as BlueZ would remember it; ``$FAKE_MAC``/``$FAKE_NAME`` name the
earpiece, ``$FAKE_PAIR_FAILS``/``$FAKE_NO_HFP`` inject failures, ``$FAKE_ACTIVE``,
``$FAKE_ENABLED`` and ``$FAKE_NTP`` set the systemd answers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MAC = "00:1B:66:AA:BB:CC"
NAME = "Jabra Talk 25"
PROGRAMS = Path(__file__).with_name("fake_programs")


def install_fake_tools(bin_dir: Path, state: Path) -> None:
    """Copy the fakes into ``bin_dir`` (already first on PATH); state lives in ``state``."""
    state.mkdir(parents=True, exist_ok=True)
    for program in PROGRAMS.iterdir():
        shutil.copy2(program, bin_dir / program.name)
