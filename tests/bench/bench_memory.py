"""Memory: peak RSS per mode (each a fresh process holding a short conversation) and
RSS growth over a run of back-to-back turns (the leak check).

The realtime figure comes from the conversation run of :mod:`bench_latency`
(already a fresh process); chained and local modes get their own short runs here.
The leak run is accelerated: a turn every few seconds instead of every few
minutes, so a couple of minutes hold as many turns as half an hour of use.
"""

from __future__ import annotations

from tests.bench import figures as fg
from tests.bench.harness import ALWAYS_LISTENING, ChildFailedError, ChildRun, run_scenario
from tests.bench.inputs import conversation, rapid_turns
from tests.bench.report import Figure, figure

MB = 1024.0
GOALS_MB = {"realtime": 60.0, "local": 150.0}


def mode_run(mode: str, turns: int) -> ChildRun:
    scenario = conversation(turns)
    scenario.name = f"memory-{mode}"
    scenario.config = f"mode: {mode}\n{ALWAYS_LISTENING}"
    return run_scenario(scenario)


def rss_figure(mode: str, peaks_kb: list[float], note: str = "") -> Figure:
    return figure(f"rss_{mode}", f"peak RSS, {mode} mode", [kb / MB for kb in peaks_kb], "MB",
                  goal_median=GOALS_MB.get(mode), keep_samples=False, note=note)


def run(realtime_runs: list[ChildRun], turns: int, reps: int,
        leak_seconds: float) -> tuple[list[Figure], dict[str, object]]:
    out = [rss_figure("realtime", [r.child["peak_rss_kb"] for r in realtime_runs],
                      note="openai imported: "
                           + str(any(r.child["openai_imported"] for r in realtime_runs)))]
    details: dict[str, object] = {}
    for mode in ("chained", "local"):
        peaks, error = [], ""
        for _ in range(reps):
            try:
                run_ = mode_run(mode, turns)
            except ChildFailedError as exc:
                error = str(exc).splitlines()[-1][:200]
                break
            peaks.append(run_.child["peak_rss_kb"])
            details[f"{mode}_responses"] = len(run_.child["records"]["responses"])
            details[f"{mode}_openai_imported"] = run_.child["openai_imported"]
        out.append(rss_figure(mode, peaks, note=f"failed: {error}" if error else ""))
    leak = run_scenario(rapid_turns(leak_seconds))
    first, last, growth = fg.rss_growth_kb(leak)
    turns_done = len(leak.child["records"]["responses"])
    out.append(figure("rss_growth", "RSS growth over the leak run", [growth / MB], "MB",
                      goal_median=5.0, keep_samples=False,
                      note=f"{turns_done} turns in {leak_seconds:.0f} s; RSS after warm-up "
                           f"{first / MB:.1f} MB, at the end {last / MB:.1f} MB"))
    details["leak_rss_samples_kb"] = [s[2] for s in leak.child["samples"]]
    details["leak_turns"] = turns_done
    return out, details
