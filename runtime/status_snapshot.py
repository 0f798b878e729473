"""What ``maigic status`` shows about a running hub, and serving it on the status socket.

:func:`status_snapshot` adds the provider link (reachable or not, since when,
last error), error counts and the engine's mode to the hub's own snapshot (state,
devices, last turn latencies). :func:`serve_status` starts the owner-only
:class:`runtime.status.StatusServer` for a hub, or logs why it cannot.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from runtime.engine_factory import EngineMaker
from runtime.status import StatusServer

if TYPE_CHECKING:
    from runtime.hub import Hub

log = logging.getLogger(__name__)


def status_snapshot(hub: Hub) -> dict[str, Any]:
    snapshot = hub.snapshot()
    snapshot["since_s"] = round(time.monotonic() - hub.state_since, 1)
    context = hub.parts.engine.context if isinstance(hub.parts.engine, EngineMaker) else None
    link = context.link if context is not None else None
    if hub.config.mode == "local" or link is None:
        snapshot["online"] = None
        snapshot["provider"] = {"used": False, "answers": "offline skills (local mode)"}
        snapshot["errors"] = {"provider": 0}
        return snapshot
    state = link.snapshot()
    snapshot["online"] = state["online"]
    snapshot["provider"] = {
        "used": True,
        "base_url": hub.config.assist.uri if hub.config.mode == "assist"
        else hub.config.openai.base_url,  # assist: where Home Assistant connects to us
        "reachable": state["online"],
        "since": _wall(state["since"]),
        "last_error": state["last_error"],
        "answers": _answers(state["online"], hub.config.fallback.enabled),
        "offline_turns": state["offline_turns"],
    }
    stages = context.stages.snapshot() if context and hub.config.mode == "chained" else {}
    if stages:  # each chained stage at its own endpoint, with its own health
        snapshot["provider"]["stages"] = {
            name: {**record, "since": _wall(record["since"])} for name, record in stages.items()}
    snapshot["errors"] = {"provider": state["errors"]}
    return snapshot


def _answers(online: bool | None, fallback: bool) -> str:
    if online:
        return "online"
    if online is None:
        return "connecting"
    return "offline skills (fallback)" if fallback else "nobody (provider unreachable)"


def _wall(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def serve_status(hub: Hub) -> StatusServer | None:
    """The hub's status socket, started; None (logged) when it cannot be created."""
    server = StatusServer(hub.config.status.socket, lambda: status_snapshot(hub))
    try:
        server.start()
    except OSError as exc:
        log.warning("no status socket at %s (%s); 'maigic status' will not answer",
                    hub.config.status.socket, exc.strerror or exc)
        return None
    return server
