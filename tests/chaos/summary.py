"""The chaos/soak summary: a table on stdout and a JSON file the lead can quote."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

COLUMNS = ("run", "turns_attempted", "answered", "answered_locally", "unanswered_attempts",
           "lost_turns", "crashes", "actor_restarts", "hangs", "capture_vanished",
           "playback_vanished", "seconds")


def report_dir() -> Path:
    """``MAIGIC_CHAOS_REPORT_DIR``, else /tmp/maigic-chaos (kept out of the work tree)."""
    path = Path(os.environ.get("MAIGIC_CHAOS_REPORT_DIR", "/tmp/maigic-chaos"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def publish(row: dict[str, Any]) -> Path:
    """Print ``row`` as a table and write it to ``<report_dir>/<run>.json``."""
    widths = [max(len(c), len(str(row.get(c, "")))) for c in COLUMNS]
    print()
    print(" | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    print(" | ".join(str(row.get(c, "")).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    extra = {k: v for k, v in row.items() if k not in COLUMNS}
    if extra:
        print(json.dumps(extra, sort_keys=True))
    path = report_dir() / f"{row['run']}.json"
    path.write_text(json.dumps(row, indent=2, sort_keys=True) + "\n")
    print(f"written to {path}")
    return path
