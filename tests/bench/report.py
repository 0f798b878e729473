"""Figures with their goals, the Markdown table and the latency plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.stats import summarize


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    summary: dict[str, float | int]
    goal_median: float | None = None  # the median must be <= this
    goal_p99: float | None = None  # the p99 must be <= this
    note: str = ""
    samples: list[float] = field(default_factory=list, repr=False)

    @property
    def verdict(self) -> str:
        if self.summary.get("n", 0) == 0:
            return "no data"
        if self.goal_median is None and self.goal_p99 is None:
            return "-"
        ok = (self.goal_median is None or self.summary["median"] <= self.goal_median) and \
             (self.goal_p99 is None or self.summary["p99"] <= self.goal_p99)
        return "meets" if ok else "MISSES"

    @property
    def goal(self) -> str:
        parts = []
        if self.goal_median is not None:
            parts.append(f"median <= {self.goal_median:g}")
        if self.goal_p99 is not None:
            parts.append(f"p99 <= {self.goal_p99:g}")
        return ", ".join(parts) or "-"

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"], out["goal"] = self.verdict, self.goal
        if len(self.samples) > 5000:
            out["samples"] = []  # the summary says enough; keeps the file small
        return out


def figure(key: str, label: str, values: Sequence[float], unit: str, *,
           goal_median: float | None = None, goal_p99: float | None = None,
           note: str = "", keep_samples: bool = True) -> Figure:
    return Figure(key, label, unit, summarize(list(values)), goal_median, goal_p99, note,
                  [round(v, 3) for v in values] if keep_samples else [])


def markdown(figures: Sequence[Figure], header: dict[str, Any]) -> str:
    lines = ["# mAIgic hub benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += ["", "| figure | n | median | p99 | max | goal | verdict |",
              "|---|---:|---:|---:|---:|---|---|"]
    for f in figures:
        s = f.summary
        cells = [f"{s[k]:g}" if k in s else "-" for k in ("median", "p99", "max")]
        lines.append(f"| {f.label} ({f.unit}) | {s.get('n', 0)} | {' | '.join(cells)} | "
                     f"{f.goal} | {f.verdict} |")
    notes = [f"- **{f.label}**: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


def plot(figures: Sequence[Figure], path: Path) -> str:
    """Histograms of the per-turn and per-frame latencies; returns what happened."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed"
    wanted = [f for f in figures if f.unit == "ms" and len(f.samples) >= 5]
    if not wanted:
        return "no plot: no latency figure has enough samples"
    cols = 2
    rows = (len(wanted) + 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.2 * rows), squeeze=False)
    for ax, f in zip(axes.flat, wanted, strict=False):
        ax.hist(f.samples, bins=40, color="#3a7", edgecolor="#254")
        ax.axvline(f.summary["median"], color="k", linestyle="--", label="median")
        ax.axvline(f.summary["p99"], color="r", linestyle=":", label="p99")
        ax.set_title(f"{f.label} (n={f.summary['n']})", fontsize=9)
        ax.set_xlabel("ms")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(wanted):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return f"plotted {path.name}"
