"""Rendering: tables, progress bars, and the JSON and CSV files. The library never prints."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from fetcher.compare import RunSummary
from fetcher.models import FetchResult

MB = 1024 * 1024


# Piped or redirected output has no width of its own; a wide one keeps the table on one line.
PIPED_WIDTH = 160


def stdout_console() -> Console:
    """Where results go."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPED_WIDTH)


def stderr_console() -> Console:
    """Where progress and messages go, so stdout stays for data."""
    return Console(stderr=True)


@dataclass
class ProgressHooks:
    """Callbacks that move a progress bar; they do nothing when progress is off."""

    progress: Progress | None
    task: TaskID | None = None

    def start(self, label: str, total: int) -> None:
        """Begin a new bar (the previous one stays on screen, finished)."""
        if self.progress is not None:
            self.task = self.progress.add_task(label, total=total)

    def advance(self, _result: FetchResult | None = None) -> None:
        """One more result."""
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)


@contextmanager
def progress_bars(quiet: bool = False) -> Iterator[ProgressHooks]:
    """Live bars on stderr, or none when stderr is not a terminal or `quiet` is set."""
    console = stderr_console()
    if quiet or not console.is_terminal:
        yield ProgressHooks(None)
        return
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield ProgressHooks(progress)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def _wall(summary: RunSummary) -> str:
    text = f"{summary.wall_s:.2f}"
    if summary.repeats > 1 and summary.wall_min_s is not None and summary.wall_max_s is not None:
        text += f" ({summary.wall_min_s:.2f}-{summary.wall_max_s:.2f})"
    return text


def comparison_table(summaries: Sequence[RunSummary], title: str) -> Table:
    """One row per strategy: time, latency, cost, concurrency achieved, and distance from ideal."""
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    headers = (
        "strategy",
        "wall s",
        "speedup",
        "req/s",
        "p50/p95/p99 ms",
        "ok/failed",
        "CPU s",
        "peak MB",
        "workers",
        "in flight",
        "ideal s",
        "efficiency",
        "start-up s",
    )
    for header in headers:
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for s in summaries:
        table.add_row(
            s.strategy,
            _wall(s),
            "-" if s.speedup is None else f"{s.speedup:.1f}x",
            f"{s.requests_per_s:.0f}",
            "/".join(_ms(v) for v in (s.p50_ms, s.p95_ms, s.p99_ms)),
            f"{s.ok}/{s.failed}",
            f"{s.cpu_s:.2f}",
            f"{s.peak_rss_bytes / MB:.0f}",
            str(s.workers),
            "-" if s.server_peak_in_flight is None else str(s.server_peak_in_flight),
            "-" if s.ideal_s is None else f"{s.ideal_s:.2f}",
            "-" if s.efficiency is None else f"{s.efficiency:.0%}",
            f"{s.startup_s:.2f}",
        )
    return table


def print_comparison(
    summaries: Sequence[RunSummary], sentences: Sequence[str], title: str, console: Console
) -> None:
    """The table, then the sentences that explain it."""
    console.print(comparison_table(summaries, title))
    for sentence in sentences:
        console.print(f"- {sentence}", highlight=False)


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


def fetch_summary(results_count: int, ok: int, errors: Counter[str], wall_s: float) -> str:
    """The one-paragraph summary `fetcher fetch` prints at the end, complete or interrupted."""
    rate = results_count / wall_s if wall_s > 0 else 0.0
    failed = results_count - ok
    text = f"{results_count} results in {wall_s:.2f} s ({rate:.0f}/s): {ok} ok, {failed} failed"
    if errors:
        text += " (" + ", ".join(f"{kind} {count}" for kind, count in errors.most_common()) + ")"
    return text
