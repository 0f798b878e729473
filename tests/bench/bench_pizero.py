"""The same conversation and barge-in runs on a CPU budget approximating a Pi Zero 2 W.

The Pi Zero 2 W has four Cortex-A53 cores at 1 GHz; one of them does roughly a
quarter to a fifth of the work of one core of this machine. The hub is pinned
to one core and given ``SHARE`` of it (cgroup CPU bandwidth when writable here,
else a SIGSTOP/SIGCONT duty cycle): one slow core, which is pessimistic for the
Pi's parallelism and roughly right for its per-core speed. The question is
whether audio keeps flowing: the playback driver's underrun count, late period
writes on continuous answers (what a real device would play as a gap), and the
hop and voice-to-voice figures under the limit.
"""

from __future__ import annotations

from tests.bench import figures as fg
from tests.bench.bench_latency import hop_figures, voice_figures
from tests.bench.bench_startup import StartupError, start_once
from tests.bench.cpulimit import CpuLimit
from tests.bench.harness import run_scenario
from tests.bench.inputs import barge_ins, conversation
from tests.bench.report import Figure, figure

SHARE = 0.25
LEAD_S = 12.0  # start-up is slower on the budget; the input waits for it


def run(turns: int, interruptions: int) -> tuple[list[Figure], dict[str, object]]:
    limit = CpuLimit(core=0, share=SHARE)
    talk = run_scenario(conversation(turns, lead_s=LEAD_S), limit)
    barge = run_scenario(barge_ins(interruptions, lead_s=LEAD_S), limit)
    suffix = " (Pi Zero approx.)"
    underruns = sum(r.child["records"]["counters"].get("playback_underruns", 0)
                    for r in (talk, barge))
    gaps = fg.playback_gaps(barge)
    out = [
        figure("pizero_underruns", f"playback underruns counted by the driver{suffix}",
               [float(underruns)], "count", goal_median=0, keep_samples=False,
               note=f"{talk.limit}; file-plugin devices never report EPIPE, see next row"),
        figure("pizero_late_writes", f"late period writes on continuous answers{suffix}",
               [float(len(gaps))], "count", goal_median=0, keep_samples=False,
               note="writes that came after the previous audio had run out (a gap a real "
                    f"device would play); longest {max(gaps, default=0.0):.1f} ms"),
        *hop_figures(talk, suffix), voice_figures(talk, suffix)[0],
        figure("barge_decision_silenced_pizero",
               f"barge-in: the hub's decision -> silenced{suffix}",
               fg.barge_in(barge).get("decision_to_silenced", []), "ms",
               goal_median=40, keep_samples=False),
    ]
    details: dict[str, object] = {"pizero_limit": talk.limit, "pizero_underruns": underruns,
                                  "pizero_late_writes": len(gaps)}
    try:
        seconds = start_once("realtime", limit)
        out.append(figure("pizero_startup", f"start-up to READY=1, realtime{suffix}",
                          [seconds], "s", keep_samples=False))
    except StartupError as exc:
        details["pizero_startup_error"] = str(exc)
    return out, details
