"""Per-turn latency: speech end -> first reply audio written, and each hop between."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

HOPS = ("commit_sent", "response_started", "first_delta", "first_written")


@dataclass(slots=True)
class TurnTimer:
    """Collects monotonic-ns marks for the current turn; ``finish`` yields ms since speech end."""

    history: deque[dict[str, float]] = field(default_factory=lambda: deque(maxlen=50))
    _speech_end_ns: int | None = None
    _marks: dict[str, int] = field(default_factory=dict)

    def start(self, speech_end_ns: int) -> None:
        self._speech_end_ns = speech_end_ns
        self._marks = {}

    def mark(self, hop: str, at_ns: int) -> None:
        if self._speech_end_ns is not None and hop not in self._marks:
            self._marks[hop] = at_ns

    def finish(self) -> dict[str, float] | None:
        """The turn's figures once the first audio was written (None before, or twice)."""
        if self._speech_end_ns is None or "first_written" not in self._marks:
            return None
        base = self._speech_end_ns
        figures = {hop: (self._marks[hop] - base) / 1e6 for hop in HOPS if hop in self._marks}
        self._speech_end_ns = None
        self.history.append(figures)
        log.info("turn timing: speech end -> first audio written %.0f ms (%s)",
                 figures["first_written"],
                 ", ".join(f"{hop} +{ms:.0f}" for hop, ms in figures.items()))
        return figures

    def cancel(self) -> None:
        self._speech_end_ns = None
