"""Rendering a worker sweep: a table of wall time and peak memory against workers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.table import Table

from fetcher.compare.summary import SweepPoint

MB = 1024 * 1024


def sweep_rows(points: Sequence[SweepPoint]) -> tuple[list[str], list[list[str]]]:
    """The sweep as columns and rows of text: a row per worker count, a column per strategy."""
    strategies = list(dict.fromkeys(p.strategy for p in points))
    cells = {(p.strategy, p.workers): p for p in points}
    columns = ["workers", *(f"{strategy}\nwall s / peak MB" for strategy in strategies)]
    rows = []
    for workers in sorted({p.workers for p in points}):
        row = [str(workers)]
        for strategy in strategies:
            point = cells.get((strategy, workers))
            row.append("-" if point is None else _cell(point))
        rows.append(row)
    return columns, rows


def sweep_table(points: Sequence[SweepPoint], title: str) -> Table:
    """A row per worker count, a `wall s / peak MB` column per strategy."""
    columns, rows = sweep_rows(points)
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def _cell(point: SweepPoint) -> str:
    failed = point.requests - point.ok
    text = f"{point.wall_s:.2f} / {point.peak_rss_bytes / MB:.0f}"
    return text + (f" ({failed} failed)" if failed else "")


def write_json(path: Path, points: Sequence[SweepPoint]) -> None:
    """A list with one object per strategy and worker count."""
    path.write_text(json.dumps([p.to_json() for p in points], indent=2) + "\n", encoding="utf-8")
