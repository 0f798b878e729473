"""Fixtures for the deployment tests: the repository, scratch roots, stub programs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo() -> Path:
    return REPO


def write_script(path: Path, body: str) -> Path:
    """An executable shell script at ``path`` (stub programs for PATH and ExecStart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    """An empty target system: just the account files useradd/usermod --prefix edit."""
    root = tmp_path / "root"
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (etc / "group").write_text(
        "root:x:0:\naudio:x:29:pi\nbluetooth:x:112:\ngpio:x:997:pi\n", encoding="utf-8"
    )
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n", encoding="utf-8")
    (etc / "gshadow").write_text("root:*::\naudio:*::pi\nbluetooth:*::\ngpio:*::pi\n",
                                 encoding="utf-8")
    for name in ("shadow", "gshadow"):
        os.chmod(etc / name, 0o640)
    return root


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory first on PATH for fake system programs (bluetoothctl, systemctl...)."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return bin_dir
