"""CPU of idle listening: the default wake word + VAD on two minutes of human speech.

The stream has no wake word in it (LibriVox clips, looped), fed in real time, so
the hub listens the whole time and never starts a turn; it also stays connected
to the fake Realtime server, as it would at home. Measured unpinned, then pinned
to one core in the same run (the ratio is reported). A third run is a quiet room:
low room noise (-60 dBFS, a quiet room through a real microphone) with no speech,
where the wake word's VAD gate keeps the detector idle; it is most of a hub's day.
"""

from __future__ import annotations

import numpy as np

from tests.bench.bench_latency import cpu_figure
from tests.bench.cpulimit import CpuLimit
from tests.bench.harness import RATE, Scenario, run_scenario
from tests.bench.inputs import IDLE_CONFIG, LEAD_S, idle_speech
from tests.bench.report import Figure

QUIET_DBFS = -60.0


def quiet_room(seconds: float, lead_s: float = LEAD_S) -> Scenario:
    """White noise at ``QUIET_DBFS`` (RMS), no speech, default triggers."""
    rms = 32768 * 10 ** (QUIET_DBFS / 20)
    noise = np.random.default_rng(7).normal(0.0, rms, int((lead_s + seconds) * RATE))
    pcm = np.clip(np.round(noise), -32768, 32767).astype("<i2").tobytes()
    return Scenario(f"quiet-{seconds:.0f}s", pcm, [], IDLE_CONFIG)


def run_quiet(seconds: float) -> Figure:
    quiet = run_scenario(quiet_room(seconds))
    return cpu_figure("cpu_idle_quiet", "CPU, idle in a quiet room (-60 dBFS noise)", quiet, 0.7)


def run(seconds: float, pinned_seconds: float) -> tuple[list[Figure], dict[str, object]]:
    idle = run_scenario(idle_speech(seconds))
    pinned = run_scenario(idle_speech(pinned_seconds), CpuLimit(core=0))
    free = cpu_figure("cpu_idle", "CPU, idle listening (wake word + VAD)", idle, 1.5)
    one = cpu_figure("cpu_idle_pinned", "CPU, idle listening, one core", pinned, 1.5)
    ratio = None
    if free.summary.get("median") and one.summary.get("median"):
        ratio = round(one.summary["median"] / free.summary["median"], 2)
    one.note += f"; pinned/unpinned median ratio {ratio}"
    wakes = len(idle.child["records"]["wakes"]) + len(pinned.child["records"]["wakes"])
    free.note += f"; false wakes on {seconds + pinned_seconds:.0f} s of speech: {wakes}"
    details = {"idle_peak_rss_kb": idle.child["peak_rss_kb"], "false_wakes": wakes,
               "cpu_idle_pinned_over_unpinned": ratio, "idle_input_s": seconds,
               "idle_pinned_input_s": pinned_seconds,
               "openai_imported_idle": idle.child["openai_imported"]}
    quiet = run_quiet(seconds)
    return [free, one, quiet], details
