"""Charts as PNG files: per-request timelines and worker sweeps. Needs the `plot` extra.

matplotlib is imported inside each function, with the non-interactive Agg backend, so importing
this module costs nothing and a missing extra is reported only when a chart is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from fetcher.compare.summary import RunSummary, SweepPoint
from fetcher.compare.timeline import Timeline
from fetcher.errors import MissingExtraError
from fetcher.render.timeline import heading

MB = 1024 * 1024
OK_COLOR, FAILED_COLOR = "tab:blue", "tab:red"
LANE_HEIGHT = 0.8


def require_matplotlib(feature: str) -> None:
    """Fail early, before a long run, when the chart asked for cannot be drawn."""
    _pyplot(feature)


def _pyplot(feature: str) -> ModuleType:
    """matplotlib.pyplot on the Agg backend, or a MissingExtraError naming `feature`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError(feature, "plot") from None
    return plt


def plot_timelines(
    timelines: Sequence[Timeline],
    path: Path,
    summaries: Mapping[str, RunSummary] | None = None,
) -> None:
    """One subplot per strategy, a lane per worker, a bar per request, each on its own time
    axis (a 0.2 s run would be a sliver on a 10 s one); titles carry the table's counts."""
    plt = _pyplot("--timeline FILE.png")
    heights = [max(2.0, min(6.0, 0.12 * len(t.lanes) + 1)) for t in timelines]
    figure, axes = plt.subplots(
        len(timelines),
        1,
        squeeze=False,
        figsize=(10, sum(heights) + 0.5),
        gridspec_kw={"height_ratios": heights},
    )
    for ax, line in zip(axes[:, 0], timelines, strict=True):
        _draw_lanes(ax, line, heading(line, (summaries or {}).get(line.strategy)))
        ax.set_xlabel("seconds since the batch started", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _draw_lanes(ax: Any, line: Timeline, title: str) -> None:
    """The bars of one timeline, lane 0 at the top."""
    for row, bars in enumerate(line.lanes.values()):
        spans = [(start, max(end - start, 1e-4)) for start, end, _ in bars]
        colors = [OK_COLOR if ok else FAILED_COLOR for _, _, ok in bars]
        ax.broken_barh(spans, (row - LANE_HEIGHT / 2, LANE_HEIGHT), facecolors=colors)
    ax.set_ylim(len(line.lanes) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_ylabel(f"{len(line.lanes)} lanes", fontsize=8)
    ax.set_xlim(0, line.end_s or 1e-3)
    ax.set_title(title, fontsize=9, loc="left")


def plot_sweep(points: Sequence[SweepPoint], path: Path) -> None:
    """Wall time and peak memory against workers, a line per strategy, log-scaled workers."""
    plt = _pyplot("--plot FILE.png")
    figure, (wall_ax, memory_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for strategy in dict.fromkeys(p.strategy for p in points):
        mine = sorted((p for p in points if p.strategy == strategy), key=lambda p: p.workers)
        workers = [p.workers for p in mine]
        wall_ax.plot(workers, [p.wall_s for p in mine], marker="o", label=strategy)
        memory_ax.plot(workers, [p.peak_rss_bytes / MB for p in mine], marker="o", label=strategy)
    for ax, label in ((wall_ax, "wall time, s"), (memory_ax, "peak memory, MB")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("workers (processes, threads or tasks)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
