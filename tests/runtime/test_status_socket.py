"""The status socket: owner-only, one JSON snapshot per connection, secrets scrubbed."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.logging_setup import register_secret
from runtime.status import StatusServer, query_status

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-status-secret-abcdefghijklmnop"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StatusServer]:
    snapshot: dict[str, Any] = {"state": "IDLE", "mode": "local", "errors": {"provider": 0},
                                "last_turn": {"voice_to_voice_ms": 812}}
    srv = StatusServer(tmp_path / "run" / "status.sock", lambda: dict(snapshot))
    srv.start()
    yield srv
    srv.stop()


def test_socket_is_owner_only_and_answers_json(server: StatusServer) -> None:
    mode = stat.S_IMODE(os.stat(server.path).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(server.path.parent).st_mode) & 0o077 == 0
    assert query_status(server.path)["state"] == "IDLE"


def test_cli_prints_the_status(server: StatusServer) -> None:
    out = subprocess.run([sys.executable, "-m", "runtime.cli", "status", "--socket",
                          str(server.path)], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["state: IDLE", "mode: local"]
    assert "  voice_to_voice_ms: 812" in lines


def test_cli_without_a_hub_says_so(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "runtime.cli", "status", "--socket",
                          str(tmp_path / "none.sock")], capture_output=True, text=True,
                         timeout=30, cwd=ROOT)
    assert out.returncode == 1
    assert "no running hub answers" in out.stderr and "Traceback" not in out.stderr


def test_other_users_are_refused() -> None:
    # the hub runs as some uid; a connection from any other non-root uid gets nothing.
    # A directory others can traverse (pytest's tmp_path is 0700 all the way up).
    base = Path(tempfile.mkdtemp(prefix="maigic-status-", dir="/tmp"))
    srv = StatusServer(base / "run" / "s.sock", lambda: {"state": "IDLE"},
                       allowed_uid=os.getuid() + 4242)
    srv.start()
    try:
        if os.getuid() == 0:
            # root is always allowed; prove refusal by connecting as another user
            code = (
                "import os, socket, sys\n"
                "os.setgid(65534); os.setuid(65534)\n"
                "s = socket.socket(socket.AF_UNIX)\n"
                "try:\n"
                f"    s.connect({str(srv.path)!r})\n"
                "except PermissionError:\n"
                "    print('denied-by-mode'); sys.exit(0)\n"
                "print('answer:' + s.recv(100).decode())\n"
            )
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=30)
            assert out.stdout.strip() == "denied-by-mode", out
            os.chmod(srv.path, 0o666)  # even with a loosened mode, SO_PEERCRED refuses
            os.chmod(srv.path.parent, 0o755)
            os.chmod(base, 0o755)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=30)
            assert out.stdout.strip() == "answer:", out
            assert srv.refused == 1
        else:
            with pytest.raises(OSError):
                query_status(srv.path)
            assert srv.refused == 1
    finally:
        srv.stop()
        shutil.rmtree(base)


def test_registered_secrets_are_scrubbed_from_the_snapshot(tmp_path: Path) -> None:
    register_secret(SECRET)
    srv = StatusServer(tmp_path / "s.sock", lambda: {"provider": f"key {SECRET}"})
    srv.start()
    try:
        reply = query_status(srv.path)
    finally:
        srv.stop()
    assert SECRET not in str(reply)


def test_a_failing_snapshot_is_reported_not_fatal(tmp_path: Path) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    srv = StatusServer(tmp_path / "s.sock", broken)
    srv.start()
    try:
        assert "snapshot failed" in query_status(srv.path)["error"]
        assert "snapshot failed" in query_status(srv.path)["error"]  # still serving
    finally:
        srv.stop()
    assert not [t for t in threading.enumerate() if t.name == "status-socket"]
    assert not srv.path.exists()


def test_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    srv = StatusServer(path, lambda: {"state": "IDLE"})
    srv.start()
    try:
        assert query_status(path) == {"state": "IDLE"}
    finally:
        srv.stop()
