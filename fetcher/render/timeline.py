"""Timelines as a few lines of characters per strategy, for `fetcher compare --timeline`.

Each line is a lane, each column a slice of the shared time axis: `#` while the lane had a
request in flight, `x` where one of them failed, `.` while it was idle. Many workers are folded
into a few lanes, so 100 asyncio tasks read as one solid wall rather than 100 lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from fetcher.compare.timeline import Bar, Timeline, fold

DEFAULT_WIDTH = 60
DEFAULT_MAX_LANES = 4
BUSY, FAILED, IDLE = "#", "x", "."


def render(
    timelines: Sequence[Timeline], width: int = DEFAULT_WIDTH, max_lanes: int = DEFAULT_MAX_LANES
) -> list[str]:
    """The lines for every timeline, on one time axis as long as the slowest run."""
    end_s = max((t.end_s for t in timelines), default=0.0) or 1e-9
    label_width = max(
        (len(label) for t in timelines for label, _ in fold(t.lanes, max_lanes)), default=0
    )
    lines = [_axis(end_s, width, label_width)]
    for line in timelines:
        lines.append(f"{line.strategy}: {len(line.lanes)} workers, {line.requests} requests")
        for label, bars in fold(line.lanes, max_lanes):
            lines.append(f"  {label:<{label_width}} |{_cells(bars, end_s, width)}|")
    return lines


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
