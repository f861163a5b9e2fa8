"""Per-request timelines as plain data: for each worker, the requests it ran, start to end.

A lane is one worker (a thread, a `task-N` slot, a `pid-N` process); a bar is one request.
Rendering lives in `fetcher.render`: `plots` draws a PNG, `timeline` the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fetcher.models import FetchResult

Bar = tuple[float, float, bool]  # (start_s, end_s, ok)
Lanes = dict[str, list[Bar]]


@dataclass(frozen=True)
class Timeline:
    """One strategy's run: a lane per worker, in the order the workers first started."""

    strategy: str
    lanes: Lanes
    end_s: float

    @property
    def requests(self) -> int:
        """How many bars in all."""
        return sum(len(bars) for bars in self.lanes.values())


def lanes(results: Iterable[FetchResult]) -> Lanes:
    """worker -> its (start, end, ok) bars by start time; lanes ordered by natural worker name."""
    by_worker: Lanes = {}
    for result in results:
        by_worker.setdefault(result.worker, []).append(
            (result.started_s, result.ended_s, result.ok)
        )
    return {worker: sorted(by_worker[worker]) for worker in sorted(by_worker, key=_natural_key)}


def timeline(strategy: str, results: Sequence[FetchResult]) -> Timeline:
    """The timeline of one run."""
    end_s = max((r.ended_s for r in results), default=0.0)
    return Timeline(strategy=strategy, lanes=lanes(results), end_s=end_s)


def timelines(runs: Mapping[str, Sequence[FetchResult]]) -> list[Timeline]:
    """A timeline per strategy, in the order given."""
    return [timeline(strategy, results) for strategy, results in runs.items()]


def server_in_flight(
    stats: Mapping[str, Any], usage: Mapping[str, Any]
) -> tuple[tuple[float, int], ...] | None:
    """The server's in-flight series on the run's own time axis, from 0 to the run's end.

    `stats` is the bundled server's `/stats` (its series starts at `since`); `usage` is the
    runner's report (its run started at `started_at`, on the same machine's clock). None when
    either side lacks the times.
    """
    series = stats.get("in_flight_series")
    if series is None or "started_at" not in usage:
        return None
    offset_s = stats["since"] - usage["started_at"]
    interval_s, wall_s = series["interval_s"], usage["wall_s"]
    points: list[tuple[float, int]] = []
    for k, peak in enumerate(series["peaks"]):
        start_s = offset_s + k * interval_s
        # A step holds until the next change: runs of one value need only their first point.
        if start_s + interval_s > 0 and start_s <= wall_s and (not points or peak != points[-1][1]):
            points.append((round(max(start_s, 0.0), 6), peak))
    return tuple(points)


def fold(lanes_: Lanes, max_lanes: int) -> list[tuple[str, list[Bar]]]:
    """At most `max_lanes` lanes, each merging neighbouring workers; labels say how many."""
    names = list(lanes_)
    if len(names) <= max_lanes:
        return [(name, lanes_[name]) for name in names]
    size = -(-len(names) // max_lanes)  # ceiling division: the last lane may hold fewer
    folded: list[tuple[str, list[Bar]]] = []
    for first in range(0, len(names), size):
        members = names[first : first + size]
        bars = sorted(bar for name in members for bar in lanes_[name])
        folded.append((f"{members[0]} +{len(members) - 1}", bars))
    return folded


def _natural_key(name: str) -> list[tuple[int, str]]:
    """`task-2` before `task-10`."""
    return [(int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", name)]
