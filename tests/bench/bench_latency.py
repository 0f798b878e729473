"""Hop latency, voice-to-voice and barge-in through the real actor graph; conversation CPU.

One paced conversation run (always listening, local VAD ends turns, fake Realtime
server with zero think time) gives the hop latencies, the voice-to-voice figure
and the CPU of a continuous conversation; the same conversation pinned to one core
runs right after it (for the pinned/unpinned ratio). A separate run interrupts
long answers for the barge-in figures.
"""

from __future__ import annotations

from collections import Counter

from tests.bench import figures as fg
from tests.bench.cpulimit import CpuLimit
from tests.bench.harness import ChildFailedError, ChildRun, run_scenario
from tests.bench.inputs import barge_ins, conversation
from tests.bench.report import Figure, figure


def hop_figures(run: ChildRun, suffix: str = "") -> list[Figure]:
    after_read, raw = fg.capture_to_ws(run)
    played = fg.delta_to_written(run)
    return [
        figure(f"hop_capture_ws{suffix}", f"hop: capture read -> append sent{suffix}",
               after_read, "ms", goal_median=2, goal_p99=10, keep_samples=not suffix,
               note="from the moment the 20 ms ALSA read returned; "
                    f"from the chunk's first sample add 20 ms (median {_median(raw)} ms)"),
        figure(f"hop_delta_written{suffix}", f"hop: audio delta received -> PCM written{suffix}",
               played, "ms", goal_median=2, goal_p99=10, keep_samples=not suffix,
               note="20 ms deltas paced 40 ms apart, so every delta meets an idle buffer"),
    ]


def voice_figures(run: ChildRun, suffix: str = "") -> list[Figure]:
    v2v = fg.voice_to_voice(run)
    return [
        figure(f"v2v_added{suffix}", f"voice-to-voice added by the hub{suffix}", v2v["added"],
               "ms", goal_median=50, keep_samples=not suffix,
               note=f"input speech end -> first reply sample written - {run.endpoint_ms} ms "
                    "endpoint; includes the VAD's own end estimate (next rows)"),
        figure(f"v2v_vad_lag{suffix}", f"speech end -> VAD's end estimate{suffix}",
               v2v["vad_lag"], "ms", keep_samples=False,
               note="speech end: last 10 ms frame within 40 dB of the clip's peak; webrtc VAD "
                    "hears the fading tail as speech"),
        figure(f"v2v_after_decision{suffix}", f"VAD end decision -> first reply written{suffix}",
               v2v["after_decision"], "ms", goal_median=50, keep_samples=not suffix,
               note="includes the fake server's own time to answer response.create"),
        figure(f"v2v_hub_only{suffix}", f"the hub's share of it{suffix}", v2v["hub_only"], "ms",
               goal_median=50, keep_samples=False,
               note="VAD decision -> commit + response.create sent, plus first delta "
                    "received -> first period written"),
    ]


def barge_figures(run: ChildRun) -> list[Figure]:
    b = fg.barge_in(run)
    writes_after = int(sum(b.get("writes_after_flush", [])))
    return [
        figure("barge_onset_silenced", "barge-in: speech onset -> playback silenced",
               b.get("onset_to_silenced", []), "ms",
               note="user-facing: by design the speech must last barge_in_min_speech_ms "
                    "(250) and a soft onset is judged on its first 400 ms (near field)"),
        figure("barge_frame_silenced",
               "barge-in: speech's first frame (VAD) -> playback silenced",
               b.get("first_frame_to_silenced", []), "ms",
               note="250 when the onset is loud enough, about 400 when it is soft"),
        figure("barge_decision_silenced", "barge-in: the hub's decision -> playback silenced",
               b.get("decision_to_silenced", []), "ms", goal_median=40,
               note=f"periods of the interrupted answer written after the flush: {writes_after}"),
        figure("barge_onset_cancel", "barge-in: speech onset -> response.cancel sent",
               b.get("onset_to_cancel_sent", []), "ms"),
        figure("barge_decision_cancel", "barge-in: the hub's decision -> response.cancel sent",
               b.get("decision_to_cancel_sent", []), "ms",
               note="until the engine's interrupt returned: cancel and truncate both sent"),
        figure("barge_decision_cancel_rx", "barge-in: the hub's decision -> cancel at the server",
               b.get("decision_to_cancel_received", []), "ms", keep_samples=False),
    ]


def cpu_figure(key: str, label: str, run: ChildRun, goal: float) -> Figure:
    total, windows = fg.cpu_per_minute(run)
    return figure(key, label, windows, "CPU-s/min", goal_median=goal, keep_samples=False,
                  note=f"mean over the run {total:.2f}; {run.limit}")


def run_conversation(turns: int, pinned_turns: int) -> tuple[list[Figure], dict[str, object]]:
    """The paced conversation, then the same pinned to one core (for the CPU ratio)."""
    talk = run_scenario(conversation(turns))
    talk_cpu = cpu_figure("cpu_conversation", "CPU, realtime conversation", talk, 5.0)
    out = [*hop_figures(talk), *voice_figures(talk), talk_cpu]
    details: dict[str, object] = {"conversation": _run_info(talk),
                                  "turn_timing": talk.child["turns"]}
    try:
        pinned = run_scenario(conversation(pinned_turns), CpuLimit(core=0))
    except ChildFailedError as exc:  # keep the unpinned figures
        details["conversation_pinned_error"] = str(exc)[-2000:]
        return out, details
    pinned_cpu = cpu_figure("cpu_conversation_pinned", "CPU, realtime conversation, one core",
                            pinned, 5.0)
    ratio = _ratio(pinned_cpu, talk_cpu)
    pinned_cpu.note += f"; pinned/unpinned median ratio {ratio}"
    out += [pinned_cpu, voice_figures(pinned, " (one core)")[0],
            *hop_figures(pinned, " (one core)")]
    details.update({"conversation_pinned": _run_info(pinned),
                    "cpu_pinned_over_unpinned": ratio})
    return out, details


def run_barge_in(count: int) -> tuple[list[Figure], dict[str, object]]:
    barge = run_scenario(barge_ins(count))
    return barge_figures(barge), {"barge_in": _run_info(barge)}


def _median(values: list[float]) -> float:
    return round(sorted(values)[len(values) // 2], 2) if values else float("nan")


def _ratio(a: Figure, b: Figure) -> float | None:
    if a.summary.get("n", 0) == 0 or b.summary.get("n", 0) == 0 or not b.summary["median"]:
        return None
    return round(a.summary["median"] / b.summary["median"], 2)


def _run_info(run: ChildRun) -> dict[str, object]:
    records = run.child["records"]
    causes = Counter(cause for state, cause, _at in records["states"] if state == "listening")
    return {
        "listening_causes": dict(causes),
        "scenario": run.scenario.name, "input_s": round(run.scenario.seconds, 1),
        "limit": run.limit, "peak_rss_kb": run.child["peak_rss_kb"],
        "counters": records["counters"], "responses": len(records["responses"]),
        "openai_imported": run.child["openai_imported"],
    }
