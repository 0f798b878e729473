"""Memory and start-up cost per mode, and each heavy import's share of it.

    .venv/bin/python -m tests.bench.bench_imports            # about 2 minutes
    .venv/bin/python -m tests.bench.bench_imports --reps 5   # more starts per mode

Two tables, printed and saved to tests/bench/results/imports.json:

- **Imports.** A fresh interpreter imports the hub's heavy modules one after another,
  in the order the hub does, and reports what each added: resident memory (VmRSS) and
  CPU seconds. A module's share excludes what an earlier row already imported.
- **Modes.** ``maigic run`` started as systemd starts it (the start-up benchmark's
  harness), measured at READY=1: wall seconds (load-dependent), CPU seconds of the hub
  and its helper processes (load-independent), their resident memory; and, a few
  seconds later (the recogniser loads beside the start, after READY), the peak of every
  process (VmHWM), the hub's own and its helpers' (pocketsphinx decodes in a child).

Bytecode is compiled first (``compileall``), as an installed hub's is: without it every
start would compile the project's sources again (this repository's environment sets
PYTHONDONTWRITEBYTECODE) and the figures would be a compiler's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bench.bench_startup import GOAL_READY_S, Started, compile_project, start_measured
from tests.bench.harness import REPO

RESULTS = Path(__file__).parent / "results" / "imports.json"
MB = 1024.0
SETTLE_S = 8.0  # after READY=1: the recogniser loads beside the start; done by then (load 9)

# what a hub imports, in its order (each row adds what the rows above did not import), and
# when and in which modes: before READY=1 every mode imports the first rows; the rest load
# after it (the first audio, the first connection, the recogniser's load) where the mode uses them
IMPORTS = (
    "logging", "yaml", "pykka", "speech_api", "runtime.config", "actors.messages",
    "runtime.hub", "runtime.commands.run",
    "numpy", "webrtcvad", "pymicro_wakeword", "websocket", "openai", "pocketsphinx",
    "faster_whisper",
)
WHEN = {
    "numpy": "after READY, every mode (the first audio)",
    "webrtcvad": "after READY, every mode (the first audio)",
    "pymicro_wakeword": "after READY, every mode with the wake word (its loader thread)",
    "websocket": "after READY, realtime and chained (the first connection)",
    "openai": "after READY, chained (its first request)",
    "pocketsphinx": "after READY, local (in the decoder's child process)",
    "faster_whisper": "after READY, local on boards with 1 GiB or more",
}
# (name, mode, extra config): local mode's recogniser reported per engine
MODES = (
    ("realtime", "realtime", ""),
    ("chained", "chained", ""),
    ("local, pocketsphinx", "local", "local: {stt: {engine: pocketsphinx}}\n"),
    ("local, faster-whisper", "local", "local: {stt: {engine: faster_whisper}}\n"),
)
GOALS_MB = {"realtime": 60.0, "local, pocketsphinx": 150.0}

_IMPORTER = """
import json, sys, time
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

rows = [("python", rss(), time.process_time())]
for name in sys.argv[1:]:
    try:
        __import__(name)
    except ImportError:
        rows.append((name + " (not installed)", rss(), time.process_time()))
        continue
    rows.append((name, rss(), time.process_time()))
print(json.dumps(rows))
"""


def import_shares() -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-c", _IMPORTER, *IMPORTS], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    rows = json.loads(done.stdout)
    out = [{"import": rows[0][0], "rss_mb": round(rows[0][1] / MB, 1), "cpu_ms": 0.0,
            "rss_total_mb": round(rows[0][1] / MB, 1)}]
    for (_, rss0, cpu0), (name, rss1, cpu1) in itertools.pairwise(rows):
        out.append({"import": name, "rss_mb": round((rss1 - rss0) / MB, 1),
                    "cpu_ms": round((cpu1 - cpu0) * 1000, 1),
                    "rss_total_mb": round(rss1 / MB, 1)})
    return out


def mode_figures(reps: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, mode, extra in MODES:
        runs: list[Started] = []
        error = ""
        for _ in range(reps):
            try:
                runs.append(start_measured(mode, extra=extra, settle_s=SETTLE_S))
            except Exception as exc:  # noqa: BLE001 - reported in the table
                error = str(exc).splitlines()[0][:200]
                break
        if not runs:
            out.append({"mode": name, "error": error})
            continue
        hub_pid = [next(iter(r.rss_kb)) for r in runs]
        out.append({
            "mode": name,
            "ready_s": _median([r.seconds for r in runs]),
            "cpu_to_ready_s": _median([r.cpu_s for r in runs]),
            "rss_at_ready_mb": _median([r.rss_kb[p] / MB for r, p in zip(runs, hub_pid,
                                                                          strict=True)]),
            "hub_peak_mb": _median([r.settled_kb.get(p, 0) / MB for r, p in zip(
                runs, hub_pid, strict=True)]),
            "helpers_peak_mb": _median([sum(kb for q, kb in r.settled_kb.items() if q != p)
                                        / MB for r, p in zip(runs, hub_pid, strict=True)]),
            "total_peak_mb": _median([sum(r.settled_kb.values()) / MB for r in runs]),
            "helpers": max(len(r.settled_kb) - 1 for r in runs),
            "cpu_settled_s": _median([r.cpu_settled_s for r in runs]),
            "goal_total_mb": GOALS_MB.get(name),
            "reps": len(runs),
            "error": error,
        })
    return out


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def markdown(imports: list[dict[str, Any]], modes: list[dict[str, Any]]) -> str:
    lines = ["| import (cumulative, in the hub's order) | adds RSS (MB) | CPU (ms) "
             "| RSS so far (MB) | when, which modes |", "|---|---:|---:|---:|---|"]
    lines += [f"| {r['import']} | {r['rss_mb']} | {r['cpu_ms']} | {r['rss_total_mb']} | "
              f"{WHEN.get(r['import'], 'before READY, every mode')} |" for r in imports]
    lines += ["", "| mode | READY (s, wall) | CPU to READY (s) | RSS at READY (MB) | "
              "peak: hub + helpers = total (MB) | goal (MB) |", "|---|---:|---:|---:|---|---|"]
    for m in modes:
        if "ready_s" not in m:
            lines.append(f"| {m['mode']} | failed: {m['error']} | | | | |")
            continue
        goal = m["goal_total_mb"]
        verdict = "" if goal is None else \
            f"{goal:g}: {'meets' if m['total_peak_mb'] <= goal else 'MISSES'}"
        lines.append(f"| {m['mode']} | {m['ready_s']} | {m['cpu_to_ready_s']} | "
                     f"{m['rss_at_ready_mb']:.1f} | {m['hub_peak_mb']:.1f} + "
                     f"{m['helpers_peak_mb']:.1f} ({m['helpers']} processes) = "
                     f"{m['total_peak_mb']:.1f} | {verdict} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="starts per mode")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    compile_project()
    load_start = os.getloadavg()
    imports = import_shares()
    modes = mode_figures(args.reps)
    results = {"load_average_start": load_start, "load_average_end": os.getloadavg(),
               "goal_ready_s": GOAL_READY_S, "imports": imports, "modes": modes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(markdown(imports, modes))
    print(f"\nload average {load_start} at the start, {results['load_average_end']} at the end; "
          f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
