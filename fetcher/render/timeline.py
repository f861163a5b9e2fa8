"""Timelines as a few lines of characters per strategy, for `fetcher compare --timeline`.

Each line is a lane, each column a slice of that strategy's own time axis (0 to its last
result, so a 0.2 s run is as wide as a 10 s one): `#` while the lane had a request in flight,
`x` where one of them failed, `.` while it was idle. Many workers are folded into a few lanes,
so 100 asyncio tasks read as a few solid walls rather than 100 lines. The counts in each
heading are the table's: workers and the most requests in flight at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fetcher.compare.summary import RunSummary
from fetcher.compare.timeline import Bar, Timeline, fold

DEFAULT_WIDTH = 60
DEFAULT_MAX_LANES = 4
BUSY, FAILED, IDLE = "#", "x", "."
KEY = (
    "Each strategy on its own time axis, 0 to its last result. A lane folds neighbouring "
    "workers: `task-0 +24` is task-0 and the 24 after it. # a request in flight, x a failure, "
    ". idle."
)


def render(
    timelines: Sequence[Timeline],
    summaries: Mapping[str, RunSummary] | None = None,
    width: int = DEFAULT_WIDTH,
    max_lanes: int = DEFAULT_MAX_LANES,
) -> list[str]:
    """The lines for every timeline: the key, then a heading, an axis and lanes per strategy."""
    label_width = max(
        (len(label) for t in timelines for label, _ in fold(t.lanes, max_lanes)), default=0
    )
    lines = [KEY]
    for line in timelines:
        end_s = line.end_s or 1e-9
        lines.append(heading(line, (summaries or {}).get(line.strategy)))
        lines.append(_axis(end_s, width, label_width))
        for label, bars in fold(line.lanes, max_lanes):
            lines.append(f"  {label:<{label_width}} |{_cells(bars, end_s, width)}|")
    return lines


def heading(line: Timeline, summary: RunSummary | None) -> str:
    """`threads: 100 workers (58 ran requests), 100 requests, 92 in flight at most`."""
    ran = len(line.lanes)
    if summary is None:
        return f"{line.strategy}: {_count(ran, 'worker')} ran {line.requests} requests"
    peak = summary.server_peak_in_flight
    seen = "the server saw" if peak is not None else "the client had"
    peak = summary.client_peak_in_flight if peak is None else peak
    ran_text = "" if ran == summary.workers else f" ({ran} ran requests)"
    return (
        f"{line.strategy}: {_count(summary.workers, 'worker')}{ran_text}, {line.requests} "
        f"requests, {seen} {peak} in flight at most"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _cells(bars: Sequence[Bar], end_s: float, width: int) -> str:
    """One lane as `width` characters; a failure anywhere in a cell shows as `x`."""
    cells = [IDLE] * width
    for start_s, stop_s, ok in bars:
        first = min(int(start_s / end_s * width), width - 1)
        last = min(max(int(stop_s / end_s * width), first), width - 1)
        for column in range(first, last + 1):
            if cells[column] != FAILED:
                cells[column] = BUSY if ok else FAILED
    return "".join(cells)


def _axis(end_s: float, width: int, label_width: int) -> str:
    """`0 s` at the left, the end time at the right."""
    right = f"{end_s:.2f} s"
    return f"  {'':<{label_width}} |0 s{right:>{width - 3}}|"
