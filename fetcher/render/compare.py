"""A comparison rendered: the table, the sentences under it, and the JSON and CSV files."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from fetcher.compare.summary import LEGEND, RunSummary

MB = 1024 * 1024


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def _wall(summary: RunSummary) -> str:
    text = f"{summary.wall_s:.2f}"
    if summary.repeats > 1 and summary.wall_min_s is not None and summary.wall_max_s is not None:
        text += f" ({summary.wall_min_s:.2f}-{summary.wall_max_s:.2f})"
    return text


PERCENTILES = ("p50 ms", "p95 ms", "p99 ms")
FIGURES = (
    "wall s", "speedup", "req/s", *PERCENTILES, "ok/failed", "CPU s", "peak MB", "workers",
    "in flight", "efficiency", "limited by", "start-up s",
)  # fmt: skip
# Shown when the batch went over TLS to the bundled server, which counts them.
TLS_FIGURES = ("new conns", "handshakes")
# Columns with nothing in them against a URL file: no latency, so no ideal.
UNMEASURED = ("efficiency", "limited by")


def figures(s: RunSummary) -> dict[str, str]:
    """One strategy's figures, formatted, by name."""
    values = (
        _wall(s), "-" if s.speedup is None else f"{s.speedup:.1f}x", f"{s.requests_per_s:.0f}",
        _ms(s.p50_ms), _ms(s.p95_ms), _ms(s.p99_ms), f"{s.ok}/{s.failed}", f"{s.cpu_s:.2f}",
        f"{s.peak_rss_bytes / MB:.0f}", str(s.workers),
        "-" if s.server_peak_in_flight is None else str(s.server_peak_in_flight),
        "-" if s.efficiency is None else f"{s.efficiency:.0%}", _limit(s), f"{s.startup_s:.2f}",
    )  # fmt: skip
    tls = ("-" if value is None else str(value) for value in (s.connections, s.handshakes))
    return dict(zip(FIGURES + TLS_FIGURES, (*values, *tls), strict=True))


def over_tls(summaries: Sequence[RunSummary]) -> bool:
    """True when the server counted TLS handshakes: the TLS columns have something to say."""
    return any(s.handshakes for s in summaries)


def columns(summaries: Sequence[RunSummary]) -> tuple[str, ...]:
    """The figures the table shows for these runs, in order."""
    return FIGURES + TLS_FIGURES if over_tls(summaries) else FIGURES


def _limit(s: RunSummary) -> str:
    """`2 processes: 5.00 s`, or - when nothing keeps the strategy from the ideal."""
    if s.limited_by is None or s.limit_ideal_s is None:
        return "-"
    return f"{s.limited_by}: {s.limit_ideal_s:.2f} s"


def _shown(summaries: Sequence[RunSummary]) -> list[tuple[str, str]]:
    tls = over_tls(summaries)
    return [(name, meaning) for name, meaning in LEGEND if tls or name not in TLS_FIGURES]


def legend_terms(summaries: Sequence[RunSummary]) -> list[tuple[str, str]]:
    """Each column of the table and what it means, with the ideal's own figures; the columns
    this comparison could not measure (no latency, no ideal) are left out."""
    shown = _shown(summaries)
    best = min(
        (s for s in summaries if s.limit_ideal_s is not None),
        key=lambda s: s.limit_ideal_s or 0.0,
        default=None,
    )
    if best is None:
        return [(name, meaning) for name, meaning in shown if name not in UNMEASURED]
    return [
        (name, f"{meaning} (here {best.limit_ideal_s:.2f} s = {best.limit_formula})")
        if name == "efficiency"
        else (name, meaning)
        for name, meaning in shown
    ]


def legend(summaries: Sequence[RunSummary]) -> list[str]:
    """A line per column of the table: what it means, with the ideal's own figures."""
    width = max(len(name) for name, _ in _shown(summaries))
    return [f"{name:<{width}}  {meaning}" for name, meaning in legend_terms(summaries)]


def _natural_width(table: Table) -> int:
    """How wide a table is when nothing is squeezed."""
    unbounded = Console(width=10_000)
    return Measurement.get(unbounded, unbounded.options, table).maximum


def _table(title: str) -> Table:
    return Table(
        title=title or None, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
        collapse_padding=True, pad_edge=False,
    )  # fmt: skip


def comparison_table(summaries: Sequence[RunSummary], title: str, width: int = 200) -> Table:
    """A row per strategy when `width` allows it, else a column per strategy (80 columns)."""
    cells = [figures(s) for s in summaries]
    names = columns(summaries)
    wide = _table(title)
    wide.add_column("strategy")
    headers = [name for name in names if name not in PERCENTILES[1:]]
    for header in headers:
        wide.add_column("p50/p95/p99 ms" if header == PERCENTILES[0] else header, justify="right")
    for s, each in zip(summaries, cells, strict=True):
        percentiles = "/".join(each[name] for name in PERCENTILES)
        wide.add_row(
            s.strategy, *(percentiles if h == PERCENTILES[0] else each[h] for h in headers)
        )
    if _natural_width(wide) <= width:
        return wide
    tall = _table(title)
    tall.add_column("")
    for s in summaries:
        # Break names at their hyphen, so six strategies fit side by side in 80 columns.
        tall.add_column(s.strategy.replace("-", "-\n"), justify="right")
    for name in names:
        tall.add_row(name, *(each[name] for each in cells))
    return tall


def print_comparison(
    summaries: Sequence[RunSummary],
    sentences: Sequence[str],
    title: str,
    console: Console,
    *,
    with_legend: bool = True,
) -> None:
    """The title, the table, its legend, then the sentences that explain it (a pipe gets whole
    lines; the title is its own line, so a narrow table does not wrap it)."""
    whole_lines = not console.is_terminal
    console.print(title, style="bold", highlight=False, soft_wrap=whole_lines)
    console.print(comparison_table(summaries, "", console.width))
    if with_legend:
        for line in legend(summaries):
            console.print(line, style="dim", highlight=False, soft_wrap=whole_lines)
        console.print()
    for sentence in sentences:
        console.print(f"- {sentence}", highlight=False, soft_wrap=whole_lines)


def _jsonable(value: Any) -> Any:
    """NaN (no successful request) is written as null: JSON has no NaN."""
    return None if isinstance(value, float) and math.isnan(value) else value


def write_json(path: Path, summaries: Sequence[RunSummary]) -> None:
    """A list with one object per strategy."""
    records = [{k: _jsonable(v) for k, v in s.to_json().items()} for s in summaries]
    path.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")


def write_csv(path: Path, summaries: Sequence[RunSummary]) -> None:
    """The same records as rows; the error counts become one `kind=count;...` column."""
    records = [s.to_json() for s in summaries]
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else [])
        writer.writeheader()
        for record in records:
            errors = ";".join(f"{k}={v}" for k, v in sorted(record["errors"].items()))
            writer.writerow({k: _jsonable(v) for k, v in {**record, "errors": errors}.items()})
