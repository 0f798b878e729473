"""Turning one run's stamps into figures (milliseconds unless the name says otherwise).

Each function pairs stamps that belong together (a chunk and its send, a delta
and the first period written after it, an input position and the hub's reaction)
and returns the list of differences; :mod:`tests.bench.stats` summarizes them.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from typing import Any

from tests.bench.harness import ChildRun

MS = 1e6
SETTLE_NS = 3_000_000_000  # input before the hub was ready (and caught up) is not used


def _records(run: ChildRun) -> dict[str, Any]:
    records: dict[str, Any] = run.child["records"]
    return records


def usable_marks(run: ChildRun, kind: str) -> list[int]:
    """Input positions (ns) of ``kind`` marks that came after the hub was ready and settled."""
    ready = int(run.child["ready_ns"])
    return [ns for mark in run.scenario.marks if mark.kind == kind
            and (ns := run.input_ns(mark.ms)) > ready + SETTLE_NS]


def capture_to_ws(run: ChildRun) -> tuple[list[float], list[float]]:
    """Per live chunk: (read returned -> append frame sent, capture stamp -> sent).

    The capture stamp is the chunk's first sample, one period before the read
    returned; pre-roll chunks (captured before the mic opened, sent in a burst
    when it did) are left out: their wait is the pre-roll by design.
    """
    opened = sorted(at for state, _cause, at in _records(run)["states"] if state == "listening")
    after_read, raw = [], []
    for captured, ms, sent in _records(run)["sends"]:
        index = bisect.bisect_right(opened, sent) - 1
        if index < 0 or captured < opened[index]:
            continue
        after_read.append((sent - captured) / MS - ms)
        raw.append((sent - captured) / MS)
    return after_read, raw


def delta_to_written(run: ChildRun) -> list[float]:
    """Per audio delta: received on the WebSocket -> first period holding it written.

    The deltas arrive slower than real time, so each one finds the playback
    buffer idle: the first write of its item after it arrived holds its first sample.
    """
    writes: dict[str, list[int]] = defaultdict(list)
    for item, _played, at in _records(run)["writes"]:
        writes[item].append(at)
    out = []
    deltas = _records(run)["deltas"]
    for index, (_rid, item, received, _ms) in enumerate(deltas):
        times = writes.get(item, [])
        pos = bisect.bisect_left(times, received)
        if pos == len(times):
            continue  # flushed before it was played
        following = deltas[index + 1][2] if index + 1 < len(deltas) else None
        if following is not None and times[pos] > following:
            continue  # queued behind the next delta: not a clean sample
        out.append((times[pos] - received) / MS)
    return out


def _first_write_of_response_after(run: ChildRun, after_ns: int) -> tuple[int, int] | None:
    """(first audio delta received ns, first reply period written ns) of the first answer."""
    records = _records(run)
    items: dict[str, set[str]] = defaultdict(set)
    first_rx: dict[str, int] = {}
    for rid, item, rx, _ms in records["deltas"]:
        items[rid].add(item)
        first_rx.setdefault(rid, rx)
    for rid, received in records["responses"]:
        if received <= after_ns or not items[rid]:
            continue
        written = [at for item, _p, at in records["writes"] if item in items[rid]]
        if written:
            return first_rx[rid], min(written)
    return None


def voice_to_voice(run: ChildRun) -> dict[str, list[float]]:
    """Per turn: input speech end -> first reply sample written, minus the endpoint silence;
    split into speech end -> VAD's end estimate and VAD's end decision -> first written,
    and the hub's own share of the latter: decision -> commit and response.create sent,
    plus first audio delta received -> written (the provider's time left out)."""
    out: dict[str, list[float]] = {"added": [], "vad_lag": [], "after_decision": [],
                                   "hub_only": []}
    vad_ends = [(at, decided) for kind, at, decided in _records(run)["vad"] if kind == "end"]
    commits = [tuple(pair) for pair in _records(run)["end_turns"]]
    for end_ns in usable_marks(run, "end"):
        found = _first_write_of_response_after(run, end_ns)
        decision = next(((at, d) for at, d in vad_ends if d > end_ns), None)
        if found is None or decision is None:
            continue
        first_rx, written = found
        out["added"].append((written - end_ns) / MS - run.endpoint_ms)
        out["vad_lag"].append((decision[0] - end_ns) / MS)
        out["after_decision"].append((written - decision[1]) / MS)
        sent = next((c[1] for c in commits if c[0] >= decision[1]), None)
        if sent is not None and sent <= first_rx:
            out["hub_only"].append((sent - decision[1] + written - first_rx) / MS)
    return out


def barge_in(run: ChildRun) -> dict[str, list[float]]:
    """Per interruption: speech onset / the speech's first frame / the hub's decision ->
    playback flushed, -> response.cancel.

    Each flush is paired with its causes: the VAD start decided last before it (the VAD
    may hear a soft onset before the input's 25 dB onset mark, so "the first after the
    mark" could be the next turn's) and the Controller's barge-in state change.
    """
    records = _records(run)
    starts = [(at, decided) for kind, at, decided in records["vad"] if kind == "start"]
    barges = [at for state, cause, at in records["states"]
              if state == "listening" and cause.startswith("barge-in")]
    flushes = records["flushes"]
    cancels = [(called, sent) for called, sent, cancel in records["interrupts"] if cancel]
    received = [at for kind, at in run.server_in if kind == "response.cancel"]
    out: dict[str, list[float]] = defaultdict(list)
    for onset in usable_marks(run, "barge"):
        flush = next((f for f in flushes if f[0] > onset), None)
        if flush is None:
            continue
        start = next((s for s in reversed(starts) if s[1] <= flush[0]), None)
        decided = next((b for b in reversed(barges) if b <= flush[0]), None)
        if start is None or decided is None:
            continue
        out["onset_to_silenced"].append((flush[1] - onset) / MS)
        out["first_frame_to_silenced"].append((flush[1] - start[0]) / MS)
        out["decision_to_silenced"].append((flush[1] - decided) / MS)
        out["writes_after_flush"].append(float(_writes_after(records, flush[1], onset)))
        cancel = next((c for c in cancels if c[0] >= flush[0]), None)
        if cancel is not None:
            out["onset_to_cancel_sent"].append((cancel[1] - onset) / MS)
            out["decision_to_cancel_sent"].append((cancel[1] - decided) / MS)
        got = next((r for r in received if r > flush[0]), None)
        if got is not None:
            out["decision_to_cancel_received"].append((got - decided) / MS)
    return dict(out)


def _writes_after(records: dict[str, Any], flushed_ns: int, onset_ns: int) -> int:
    """Periods of the interrupted answer written after the flush (should be none)."""
    playing = {item for item, _p, at in records["writes"] if onset_ns <= at <= flushed_ns}
    return sum(1 for item, _p, at in records["writes"] if item in playing and at > flushed_ns)


def playback_gaps(run: ChildRun) -> list[float]:
    """Late writes (ms the device would have run dry) while an answer was queued in full.

    Per item, audio written so far (``played_ms``) must be written before the
    previous audio has been heard: a write later than that is an underrun the
    listener hears, on a real device. Only meaningful for answers sent at once.
    """
    gaps: list[float] = []
    anchor: dict[str, int] = {}
    previous: dict[str, int] = {}
    for item, played, at in _records(run)["writes"]:
        if item not in anchor or played < previous[item]:  # new item or ledger restarted
            anchor[item], previous[item] = at, played
            continue
        due = anchor[item] + previous[item] * MS
        if at > due:
            gaps.append((at - due) / MS)
            anchor[item] += at - int(due)
        previous[item] = played
    return gaps


def cpu_per_minute(run: ChildRun, skip_s: float = 10.0) -> tuple[float, list[float]]:
    """CPU seconds per wall minute: over the whole ready window (after ``skip_s``),
    and per sampling window (several samples of the same figure)."""
    samples = run.child["samples"]
    start_ns = samples[0][0] + skip_s * 1e9
    kept = [s for s in samples if s[0] >= start_ns]
    if len(kept) < 2:
        return 0.0, []
    windows = [(b[1] - a[1]) / ((b[0] - a[0]) / 1e9) * 60 for a, b in itertools.pairwise(kept)]
    total = (kept[-1][1] - kept[0][1]) / ((kept[-1][0] - kept[0][0]) / 1e9) * 60
    return total, windows


def rss_growth_kb(run: ChildRun, warmup_s: float = 20.0) -> tuple[int, int, int]:
    """(RSS after warm-up, RSS at the end, growth) in kB, each the median of 3 samples.

    The warm-up is ``warmup_s`` or a quarter of the run, whichever is shorter.
    """
    samples = run.child["samples"]
    span_s = (samples[-1][0] - samples[0][0]) / 1e9
    start_ns = samples[0][0] + min(warmup_s, span_s / 4) * 1e9
    kept = [int(s[2]) for s in samples if s[0] >= start_ns]
    if len(kept) < 6:
        raise ValueError(f"the leak run was too short: {len(kept)} RSS samples after warm-up")
    first, last = sorted(kept[:3])[1], sorted(kept[-3:])[1]
    return first, last, last - first
