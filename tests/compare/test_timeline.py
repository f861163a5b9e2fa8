"""Timelines: lanes built from real results, drawn as a PNG and as text."""

from __future__ import annotations

import importlib.util
from itertools import pairwise
from pathlib import Path

import pytest

from fetcher.compare.harness import run_strategy
from fetcher.compare.timeline import fold, lanes, server_in_flight, timeline, timelines
from fetcher.config import FetchConfig
from fetcher.models import ErrorKind, FetchResult
from fetcher.render.plots import plot_timelines
from fetcher.render.timeline import BUSY, FAILED, render
from fetcher.strategies import get_strategy
from mock_server import MockServer
from tests.conftest import run_fetcher, summary

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def fetched(strategy: str, urls: list[str], **config: int) -> list[FetchResult]:
    """Results of one real run."""
    results: list[FetchResult] = []
    get_strategy(strategy).run(urls, FetchConfig(**config), results.append)
    return results


def result(index: int, worker: str, start: float, end: float, ok: bool = True) -> FetchResult:
    """A made-up result."""
    return FetchResult(
        index=index,
        url=f"http://127.0.0.1/{index}",
        status=200 if ok else None,
        nbytes=1,
        started_s=start,
        ended_s=end,
        worker=worker,
        error=None if ok else ErrorKind.CONNECTION_RESET,
    )


def test_lanes_match_the_results_of_a_real_run(server: MockServer) -> None:
    """A lane per worker, a bar per result, each bar the result's own start and end."""
    urls = [server.url_for(f"/items/{i}?latency=20ms") for i in range(30)]
    results = fetched("asyncio-aiohttp", urls, concurrency=5)
    built = lanes(results)
    assert set(built) == {r.worker for r in results} == {f"task-{n}" for n in range(5)}
    bars = sorted(bar for lane in built.values() for bar in lane)
    assert bars == sorted((r.started_s, r.ended_s, r.ok) for r in results)
    for lane in built.values():
        assert lane == sorted(lane)
        # One task runs one request at a time: its bars never overlap.
        assert all(a[1] <= b[0] for a, b in pairwise(lane))


def test_sequential_is_one_lane_of_back_to_back_bars(server: MockServer) -> None:
    """Sequential draws the staircase: one lane, each request starting after the last ended."""
    urls = [server.url_for(f"/items/{i}") for i in range(5)]
    line = timeline("sequential", fetched("sequential", urls))
    assert len(line.lanes) == 1 and line.requests == 5
    (bars,) = line.lanes.values()
    assert all(a[1] <= b[0] for a, b in pairwise(bars))
    assert line.end_s == bars[-1][1]


def test_lanes_are_in_natural_order_and_fold_to_a_few() -> None:
    """task-2 comes before task-10, and 10 lanes fold into 4 that keep every bar."""
    results = [result(n, f"task-{n}", n * 0.1, n * 0.1 + 0.05) for n in range(10)]
    built = lanes(reversed(results))
    assert list(built) == [f"task-{n}" for n in range(10)]
    folded = fold(built, 4)
    assert len(folded) == 4
    assert folded[0][0] == "task-0 +2"
    assert sum(len(bars) for _, bars in folded) == 10
    assert fold(built, 20) == list(built.items())


def test_text_rendering_marks_busy_and_failed_cells_on_each_runs_own_axis() -> None:
    """Each lane is a row of fixed width on its strategy's own axis; a failure shows as x."""
    runs = {
        "threads": [result(0, "t1", 0.0, 0.5), result(1, "t2", 0.5, 1.0, ok=False)],
        "sequential": [result(0, "main", 0.0, 2.0)],
    }
    lines = render(timelines(runs), width=20)
    axes = [line for line in lines if line.strip().startswith("|0 s")]
    assert [axis.rsplit(" ", 2)[-2] for axis in axes] == ["1.00", "2.00"]
    assert "threads: 2 workers ran 2 requests" in lines
    rows = [line.split("|")[1] for line in lines if line.startswith("  ") and "|0 s" not in line]
    assert len(rows) == 3 and all(len(row) == 20 for row in rows)
    t1, t2, main = rows
    # t1 was busy for the first half of threads' own 1 s axis, not a quarter of a shared 2 s.
    assert t1.startswith(BUSY * 10) and t1.endswith(".") and FAILED not in t1
    assert FAILED in t2 and t2.startswith(".")
    assert set(main) == {BUSY}


def test_headings_give_the_tables_counts() -> None:
    """A heading's workers and peak in flight are the table's, not the lanes it drew."""
    runs = {"threads": [result(0, "t1", 0.0, 0.5), result(1, "t2", 0.5, 1.0)]}
    table = {"threads": summary("threads", workers=100, server_peak_in_flight=92)}
    lines = render(timelines(runs), table)
    assert (
        "threads: 100 workers (2 ran requests), 2 requests, the server saw 92 in flight at most"
        in lines
    )


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs the plot extra")
def test_png_is_written_and_not_empty(tmp_path: Path) -> None:
    """plot_timelines writes a real PNG file, one subplot per strategy."""
    runs = {
        "sequential": [result(n, "main", n * 0.1, n * 0.1 + 0.1) for n in range(5)],
        "threads": [result(n, f"t{n}", 0.0, 0.1, ok=n != 2) for n in range(5)],
    }
    path = tmp_path / "timeline.png"
    plot_timelines(timelines(runs), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


def test_compare_prints_a_text_timeline_end_to_end() -> None:
    """`fetcher compare --timeline` with no file prints lanes for each strategy it ran."""
    done = run_fetcher(
        *("compare", "--count", "8", "--latency", "20ms"),
        *("--strategies", "sequential,asyncio-aiohttp", "--timeline", "--quiet"),
    )
    assert done.returncode == 0, done.stderr
    assert "sequential: 1 worker, 8 requests, the server saw 1 in flight at most" in done.stdout
    assert "asyncio-aiohttp: 8 workers, 8 requests, the server saw 8 in flight" in done.stdout


def test_timeline_refuses_a_file_that_is_not_png() -> None:
    """A URL file placed after --timeline gets a one-line error, not a silent misreading."""
    done = run_fetcher("compare", "--timeline", "urls.txt")
    assert done.returncode == 2
    assert "--timeline draws a .png file" in done.stderr


def test_server_series_lands_on_the_runs_time_axis() -> None:
    """A series that began 0.2 s before the run is shifted by 0.2 s, cut at 0 and at the end,
    and keeps only the points where the count changed."""
    stats = {
        "since": 100.0,
        "in_flight_series": {"interval_s": 0.1, "peaks": [0, 0, 2, 2, 3, 1, 5]},
    }
    usage = {"started_at": 100.2, "wall_s": 0.35}
    assert server_in_flight(stats, usage) == ((0.0, 2), (0.2, 3), (0.3, 1))
    assert server_in_flight({"since": 100.0}, usage) is None


def test_compare_run_carries_what_the_server_had_in_flight(
    fresh_server: MockServer, tmp_path: Path
) -> None:
    """Three tasks at 100 ms: the server's series tops out at three, within the run's time."""
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(fresh_server.url_for(f"/items/{i}?latency=100ms\n") for i in range(6)))
    run = run_strategy("asyncio-aiohttp", urls, FetchConfig(concurrency=3), server=fresh_server)
    assert run.server_in_flight is not None
    assert max(peak for _, peak in run.server_in_flight) == run.server_peak_in_flight == 3
    times = [t_s for t_s, _ in run.server_in_flight]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= run.wall_s
