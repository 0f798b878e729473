"""One hub under measurement, in its own process (the parent runs the fake server and feeder).

``python -m tests.bench.child CONFIG OUT.json --seconds S``: builds the hub from
CONFIG as ``maigic run`` does, with :mod:`tests.bench.probe` watching, runs it for
S seconds after it is ready (or until SIGTERM), stops it and writes the probe's
records, the CPU time it used while ready (sampled every few seconds) and its
peak RSS to OUT.json. Keeping the hub alone in its process means the fake server
and the FIFO feeder never compete with it for the GIL, and its CPU and memory are
its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from runtime.config import load_config
from runtime.hub_parts import build_parts
from runtime.logging_setup import setup_logging
from tests.bench.probe import ProbedHub, Records, now_ns, probe_parts
from tests.bench.procmem import descendants, status_kb

log = logging.getLogger("tests.bench.child")

READY_TIMEOUT_S = 30.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_kb() -> int:
    return status_kb("self", "VmRSS")


def children_hwm_kb() -> dict[int, int]:
    """Peak RSS of each helper process the hub started (the STT decoder's child)."""
    return {pid: status_kb(pid, "VmHWM") for pid in descendants(os.getpid())}


def run(config_path: Path, seconds: float, sample_s: float, record: bool) -> dict[str, Any]:
    started_ns = now_ns()
    config = load_config(config_path).config
    records = Records(enabled=record)
    hub = ProbedHub(config, probe_parts(build_parts(config), records))
    hub.records = records
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    samples: list[tuple[int, float, int]] = []  # (monotonic ns, cpu s, rss kB)
    hub.start()
    try:
        if not hub.ready.wait(READY_TIMEOUT_S):
            raise RuntimeError(f"the hub was not ready within {READY_TIMEOUT_S} s")
        ready_ns = now_ns()
        modules_at_ready = set(sys.modules)
        samples.append((ready_ns, cpu_seconds(), rss_kb()))
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            stop.wait(min(sample_s, max(0.0, deadline - time.monotonic())))
            samples.append((now_ns(), cpu_seconds(), rss_kb()))
        turns = list(hub.turns)
        children_peak = children_hwm_kb()  # before stop() ends them
    finally:
        hub.stop()
    return {
        "started_ns": started_ns,
        "ready_ns": ready_ns,
        "samples": samples,
        "turns": turns,
        "records": records.as_json(),
        # VmHWM, not ru_maxrss: that one carries the spawning process's peak over exec
        "peak_rss_kb": status_kb("self", "VmHWM"),
        "children_peak_rss_kb": children_peak,
        "openai_imported": "openai" in sys.modules,
        # what a turn imported after READY (each a share of the peak RSS)
        "packages_after_ready": sorted({m.split(".")[0] for m in set(sys.modules)
                                        - modules_at_ready}),
        "pid": os.getpid(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--sample-s", type=float, default=5.0,
                        help="how often to sample CPU time and RSS")
    parser.add_argument("--no-records", action="store_true",
                        help="keep no per-event stamps (memory runs)")
    args = parser.parse_args()
    setup_logging("WARNING")
    result = run(args.config, args.seconds, args.sample_s, not args.no_records)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
