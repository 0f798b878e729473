"""Memory: peak RSS per mode (each a fresh process holding a short conversation) and
RSS growth over a run of back-to-back turns (the leak check).

These runs keep no per-event stamps (the probe's lists would grow the RSS being
measured). The leak run is accelerated: a turn every few seconds instead of every
few minutes, so two minutes hold about as many turns as half an hour of use.
"""

from __future__ import annotations

from tests.bench import figures as fg
from tests.bench.harness import ALWAYS_LISTENING, ChildFailedError, ChildRun, run_scenario
from tests.bench.inputs import conversation, rapid_turns
from tests.bench.report import Figure, figure

MB = 1024.0
GOALS_MB = {"realtime": 60.0, "local": 150.0}
MODES = ("realtime", "chained", "local")
# local mode per recogniser: the goal is pocketsphinx's; whisper's is reported beside it
LOCAL_STT = {"local": "pocketsphinx", "local_whisper": "faster_whisper"}


def mode_run(mode: str, turns: int, stt: str | None = None) -> ChildRun:
    scenario = conversation(turns)
    scenario.name = f"memory-{mode}" + (f"-{stt}" if stt else "")
    scenario.config = f"mode: {mode}\n{ALWAYS_LISTENING}" + (
        f"local: {{stt: {{engine: {stt}}}}}\n" if stt else "")
    scenario.record = False
    return run_scenario(scenario)


def answered(run: ChildRun) -> int:
    return int(run.child["records"]["counters"].get("responses", 0))


def run(turns: int, reps: int, leak_seconds: float) -> tuple[list[Figure], dict[str, object]]:
    out: list[Figure] = []
    details: dict[str, object] = {}
    for key in (*MODES, "local_whisper"):
        mode, stt = ("local", LOCAL_STT[key]) if key in LOCAL_STT else (key, None)
        peaks, error, imported, helpers = [], "", False, 0.0
        for _ in range(reps):
            try:
                done = mode_run(mode, turns, stt)
            except ChildFailedError as exc:
                error = str(exc).splitlines()[-1][:200]
                break
            # the hub's process plus its helpers (local mode's STT decoder runs in a child)
            helpers = sum(done.child["children_peak_rss_kb"].values()) / MB
            peaks.append(done.child["peak_rss_kb"] / MB + helpers)
            imported = imported or bool(done.child["openai_imported"])
            details[f"{key}_answers"] = answered(done)
        note = f"failed: {error}" if error else (f"openai package imported: {imported}; "
                                                 f"of it in helper processes: {helpers:.1f} MB")
        title = f"peak RSS, {mode} mode" + (f", {stt}" if stt else "")
        out.append(figure(f"rss_{key}", title, peaks, "MB",
                          goal_median=GOALS_MB.get(key), keep_samples=False, note=note))
    leak = run_scenario(rapid_turns(leak_seconds))
    first, last, growth = fg.rss_growth_kb(leak)
    out.append(figure("rss_growth", "RSS growth over the leak run", [growth / MB], "MB",
                      goal_median=5.0, keep_samples=False,
                      note=f"{answered(leak)} turns in {leak_seconds:.0f} s; RSS after warm-up "
                           f"{first / MB:.1f} MB, at the end {last / MB:.1f} MB"))
    details["leak_rss_samples_kb"] = [s[2] for s in leak.child["samples"]]
    details["leak_turns"] = answered(leak)
    return out, details
