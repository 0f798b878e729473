"""Local mode latency on this machine: end of a spoken question -> first reply audio written.

Runs the real hub through ``runtime.demo`` (file-plugin ALSA devices, flite
questions, pocketsphinx + skills + flite) for a few questions, prints each turn's
hops (ms after the end of speech: commit sent, response started, first audio
delta, first audio written) and saves them as JSON.

    .venv/bin/python -m tests.modes.bench_local_mode [--out PATH] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from runtime.config import HubConfig
from runtime.demo import run_demo

QUESTIONS = ("what time is it", "set a timer for ten minutes", "what's the date",
             "tell me a joke")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/maigic-bench/local_mode.json"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--engine", choices=("auto", "pocketsphinx", "faster_whisper"),
                        default="auto", help="local.stt.engine")
    args = parser.parse_args()
    base = HubConfig()
    base = replace(base, local=replace(base.local, stt=replace(base.local.stt,
                                                               engine=args.engine)))
    logging.basicConfig(level=logging.WARNING)
    rows: list[dict[str, object]] = []
    firsts: list[float] = []
    for _ in range(args.rounds):
        for question in QUESTIONS:
            with tempfile.TemporaryDirectory(prefix="maigic-bench-") as work:
                result = run_demo(base, question, Path(work))
            timing = result.timing or {}
            if "first_written" in timing:
                firsts.append(timing["first_written"])
            rows.append({"question": question, "heard": result.heard,
                         "answer": result.answer, **timing})
            print(f"{question!r:34} heard {result.heard!r:34} " + "  ".join(
                f"{hop} {ms:6.0f}" for hop, ms in timing.items()))
    summary = {"engine": args.engine, "load_average": os.getloadavg(),
               "turns": len(rows), "first_written_ms_median": statistics.median(firsts),
               "first_written_ms_max": max(firsts), "endpoint_silence_ms": HubConfig(
               ).conversation.endpoint_silence_ms, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    print(json.dumps(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "turns": rows}, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
