"""`fetcher sweep --html`: the sweep's table, and wall time and memory against workers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from fetcher.compare.summary import SweepPoint
from fetcher.render.html import charts, draw, page
from fetcher.render.sweep import sweep_rows

MB = 1024 * 1024


def sweep_data(points: Sequence[SweepPoint], title: str) -> dict[str, Any]:
    """Everything the sweep page shows, as JSON-ready data."""
    columns, rows = sweep_rows(points)
    return {
        "command": "sweep",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "title": title,
        "table": {"columns": columns, "rows": rows},
        "points": [p.to_json() for p in points],
    }


def sweep_page(data: Mapping[str, Any]) -> str:
    """The page, drawn from `sweep_data`'s data."""
    points = data["points"]
    wall = charts.lines(
        "wall time",
        [_row(p, p["wall_s"], f"{p['wall_s']:.2f} s") for p in points],
        ("workers", "workers (processes, threads or tasks)"),
        ("value", "seconds"),
    )
    memory = charts.lines(
        "peak memory",
        [_row(p, p["peak_rss_bytes"] / MB, f"{p['peak_rss_bytes'] / MB:.0f} MB") for p in points],
        ("workers", "workers (processes, threads or tasks)"),
        ("value", "MB, children included"),
    )
    sections = [
        page.section(
            "Wall time and peak memory against workers",
            page.side_by_side(page.figure(draw.svg(wall)), page.figure(draw.svg(memory))),
            page.table(data["table"]["columns"], data["table"]["rows"]),
        )
    ]
    return page.document("fetcher sweep", data["title"], sections, data)


def _row(point: Mapping[str, Any], value: float, text: str) -> dict[str, Any]:
    """A point of a line: the strategy is the series, its hover text says it all."""
    strategy, workers = point["strategy"], point["workers"]
    label = f"{strategy} with {workers} workers: {text}"
    return {"series": strategy, "workers": workers, "value": value, "label": label}
