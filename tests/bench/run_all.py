"""Run every benchmark; write bench-results.json, bench-results.md and bench-latency.png.

    .venv/bin/python -m tests.bench.run_all            # full run, about 20 minutes
    .venv/bin/python -m tests.bench.run_all --quick    # smaller samples, about 9 minutes

Each benchmark runs the real hub in a child process against the fake OpenAI
server, with real alsa-lib file-plugin devices paced in real time (see
docs/benchmarks.md). A benchmark that fails is reported as such in the results;
the others still run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import (
    bench_cpu,
    bench_endpoint,
    bench_latency,
    bench_local,
    bench_memory,
    bench_pizero,
    bench_startup,
    bench_wake,
    bench_wake_hub,
)
from tests.bench.harness import REPO
from tests.bench.report import Figure, markdown, plot

log = logging.getLogger("tests.bench")

Result = tuple[list[Figure], dict[str, object]]


@dataclass(frozen=True)
class Profile:
    turns: int  # conversation turns (>= 30 for the voice-to-voice figure)
    pinned_turns: int
    barge_ins: int
    idle_s: float  # idle listening stream (two minutes in the full run)
    idle_pinned_s: float
    memory_turns: int
    memory_reps: int
    leak_s: float
    startup_reps: int
    wake_models: tuple[str, ...]
    pizero_turns: int
    pizero_barge_ins: int
    engines: bool = True  # also run the offline engines' own benchmark (~50 s)
    local_turns: int = 4  # local mode, per engine, here and on the Pi 4 approx. (bench_local)


FULL = Profile(turns=30, pinned_turns=6, barge_ins=10, idle_s=120, idle_pinned_s=30,
               memory_turns=1, memory_reps=1, leak_s=90, startup_reps=3,
               wake_models=("okay_nabu", "hey_jarvis", "alexa"), pizero_turns=5,
               pizero_barge_ins=5)
QUICK = Profile(turns=5, pinned_turns=2, barge_ins=3, idle_s=15, idle_pinned_s=10,
                memory_turns=1, memory_reps=1, leak_s=30, startup_reps=1,
                wake_models=("okay_nabu",), pizero_turns=2, pizero_barge_ins=2, engines=False,
                local_turns=2)


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _engines_bench() -> Result:
    """The offline engines' own benchmark (tests/bench/bench_engines.py), when present."""
    script = Path(__file__).with_name("bench_engines.py")
    if not script.exists():
        return [], {"bench_engines": "not present"}
    done = subprocess.run([sys.executable, "-m", "tests.bench.bench_engines"], cwd=REPO,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    return [], {"bench_engines": {"exit": done.returncode, "output": done.stdout[-4000:],
                                  "errors": done.stderr[-2000:]}}


def run(profile: Profile, out_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    header: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
        "profile": "quick" if profile == QUICK else "full",
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "machine": f"{os.cpu_count()} x {_cpu_model()}, Python {platform.python_version()}",
    }
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    failures: dict[str, str] = {}
    steps: list[tuple[str, Callable[[], Result]]] = [
        ("conversation", lambda: bench_latency.run_conversation(profile.turns,
                                                                profile.pinned_turns)),
        # where speech ends and the false-endpoint rate, next to voice-to-voice (offline)
        ("endpoint", bench_endpoint.run),
        ("barge_in", lambda: bench_latency.run_barge_in(profile.barge_ins)),
        ("cpu_idle", lambda: bench_cpu.run(profile.idle_s, profile.idle_pinned_s)),
        ("memory", lambda: bench_memory.run(profile.memory_turns, profile.memory_reps,
                                            profile.leak_s)),
        ("startup", lambda: bench_startup.run(profile.startup_reps)),
        ("wake", lambda: bench_wake.run(profile.wake_models)),
        ("wake_hub", bench_wake_hub.run),  # ~80 s: 15 phrases through the real hub
        ("pizero", lambda: bench_pizero.run(profile.pizero_turns, profile.pizero_barge_ins)),
        ("local", lambda: bench_local.run(profile.local_turns)),
    ]
    if profile.engines:
        steps.append(("engines", _engines_bench))
    for name, step in steps:
        step_started = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        try:
            got, info = step()
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            failures[name] = traceback.format_exc()[-3000:]
            print(f"[bench] {name} FAILED:\n{failures[name]}", flush=True)
            continue
        figures.extend(got)
        details.update(info)
        for f in got:
            print(f"  {f.label}: {f.summary} [{f.verdict}]", flush=True)
        details[f"seconds_{name}"] = round(time.monotonic() - step_started, 1)
    header["duration"] = f"{(time.monotonic() - started) / 60:.1f} min"
    header["load average at the end"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    results = {"header": header, "figures": [f.as_json() for f in figures],
               "details": details, "failures": failures}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench-results.json").write_text(json.dumps(results, indent=1, default=str))
    table = markdown(figures, header)
    if failures:
        table += "\nFailed benchmarks: " + ", ".join(sorted(failures)) + \
            " (tracebacks in bench-results.json)\n"
    engines = details.get("bench_engines")
    if isinstance(engines, dict) and engines.get("output"):
        table += ("\n## Offline engines (tests/bench/bench_engines.py)\n\n```\n"
                  + str(engines["output"]).strip() + "\n```\n")
    (out_dir / "bench-results.md").write_text(table)
    plotted = plot(figures, out_dir / "bench-latency.png")
    print(table)
    print(f"[bench] wrote {out_dir / 'bench-results.json'}, bench-results.md; {plotted}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smaller samples, no offline-engines benchmark (~9 minutes)")
    parser.add_argument("--out", type=Path, default=Path.cwd(),
                        help="directory for the results (default: the current directory)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = run(QUICK if args.quick else FULL, args.out)
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
