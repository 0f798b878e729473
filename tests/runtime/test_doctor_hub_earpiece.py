"""The doctor's hub line says when the running hub waits for the earpiece."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime.commands.doctor_checks import Verdict, check_hub
from runtime.config import HubConfig, StatusConfig
from runtime.status import StatusServer


def hub_line(tmp_path: Path, snapshot: dict[str, Any]) -> tuple[Verdict, str]:
    path = tmp_path / "status.sock"
    server = StatusServer(path, lambda: snapshot)
    server.start()
    try:
        check = check_hub(HubConfig(status=StatusConfig(socket=path)))
    finally:
        server.stop()
    return check.verdict, check.detail


def test_waiting_for_the_earpiece_is_a_warning_with_the_reason(tmp_path: Path) -> None:
    waiting = "waiting for the earpiece (playback bluealsa:DEV=X: Cannot allocate memory)"
    verdict, detail = hub_line(tmp_path, {
        "state": "idle", "mode": "realtime", "devices": ["capture"],
        "earpiece": {"audio": waiting, "connected": False}})
    assert verdict is Verdict.WARN
    assert waiting in detail


def test_a_connected_earpiece_is_fine(tmp_path: Path) -> None:
    verdict, _detail = hub_line(tmp_path, {
        "state": "idle", "mode": "realtime", "devices": ["capture", "playback"],
        "earpiece": {"audio": "connected", "connected": True}})
    assert verdict is Verdict.OK
