"""Whether the earpiece's audio is there: the hub's device state, one change at a time.

A Bluetooth earpiece is off, out of range or in its case most of the day, and its
bluealsa PCMs exist only while it is connected. The drivers reopen their device with
backoff on their own and report each change (:class:`drivers.alsa_pcm.Presence`);
:class:`AudioPresence` carries those reports from the drivers (built with the
parts, before any hub exists) to the hub, and :class:`EarpieceState` folds the two
roles into the one thing the owner cares about: connected, or waiting (and why).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from actors.wiring import CAPTURE, PLAYBACK

OnRolePresence = Callable[[str, bool, str], None]  # (role, present, reason)
AUDIO_ROLES = (CAPTURE, PLAYBACK)


class AudioPresence:
    """Drivers' presence reports, forwarded to whoever the hub binds (``listener``)."""

    def __init__(self) -> None:
        self.listener: OnRolePresence = lambda _role, _present, _reason: None

    def reporter(self, role: str) -> Callable[[bool, str], None]:
        def report(present: bool, reason: str) -> None:
            self.listener(role, present, reason)  # looked up at call time: bound at start

        return report


@dataclass(frozen=True, slots=True)
class EarpieceChange:
    connected: bool
    text: str  # one line for the log, STATUS= and `maigic status`
    was_waiting: bool  # it had been reported missing (so "connected" is news)


class EarpieceState:
    """Capture and playback presence; :meth:`update` says when the whole changed."""

    def __init__(self, devices: dict[str, str]) -> None:
        self.devices = devices  # role -> PCM name, for the messages
        self.present: dict[str, bool | None] = dict.fromkeys(AUDIO_ROLES)
        self.reasons: dict[str, str] = {}
        self.connected = False
        self.waiting = False  # a role was reported missing and has not come back
        self.since = time.monotonic()
        self.text = "starting"

    def update(self, role: str, present: bool, reason: str) -> EarpieceChange | None:
        """Record one role's news; the change of the whole, or None if it did not change."""
        if role not in self.present:
            return None
        self.present[role] = present
        if not present:
            self.reasons[role] = reason
        connected = all(self.present[r] for r in AUDIO_ROLES)
        waiting = any(self.present[r] is False for r in AUDIO_ROLES)
        if connected:
            changed = not self.connected
        else:
            # a new reason for a role already missing is not news (no line per retry)
            changed = self.connected or (waiting and not self.waiting)
        was_waiting = self.waiting
        self.connected, self.waiting = connected, waiting
        if not changed:
            return None
        self.since = time.monotonic()
        self.text = "connected" if connected else self.waiting_text()
        return EarpieceChange(connected, self.text, was_waiting)

    def waiting_text(self) -> str:
        missing = [r for r in AUDIO_ROLES if self.present[r] is False]
        what = " and ".join(f"{r} {self.devices.get(r, '')}".strip() for r in missing)
        why = "; ".join(self.reasons[r] for r in missing if r in self.reasons)
        return f"waiting for the earpiece ({what}: {why})" if why else \
            f"waiting for the earpiece ({what})"

    def snapshot(self) -> dict[str, object]:
        return {
            "audio": self.text,
            "connected": self.connected,
            "for_s": round(time.monotonic() - self.since, 1),
        }
