"""fetcher sweep: strategies over worker counts, end to end on the bundled server."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from fetcher.compare.summary import SweepPoint
from fetcher.compare.sweep import config_for, counts_for, sweep
from fetcher.config import FetchConfig
from fetcher.render.plots import plot_sweep
from fetcher.render.sweep import sweep_table
from mock_server import MockServer
from tests.conftest import run_fetcher

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def test_worker_count_turns_the_right_knob() -> None:
    """processes sets processes; threads, tasks and hybrid set concurrency."""
    base = FetchConfig(concurrency=100, processes=2)
    assert config_for("processes", base, 8).processes == 8
    assert config_for("processes", base, 8).concurrency == 100
    assert config_for("threads", base, 8).concurrency == 8
    assert config_for("hybrid", base, 8) == FetchConfig(concurrency=8, processes=2)
    assert counts_for("sequential", [1, 4, 2]) == [1]
    assert counts_for("threads", [4, 1, 4, 2]) == [1, 2, 4]


def test_small_sweep_runs_every_point(fresh_server: MockServer) -> None:
    """One point per strategy and count, all requests answered, in flight as many as workers."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=100ms") for i in range(8)]
    started: list[tuple[str, int]] = []
    points = sweep(
        urls,
        ["sequential", "threads", "asyncio-aiohttp"],
        [1, 4],
        FetchConfig(),
        server=fresh_server,
        on_start=lambda name, workers, _total: started.append((name, workers)),
    )
    expected = [("sequential", 1), ("threads", 1), ("threads", 4)]
    expected += [("asyncio-aiohttp", 1), ("asyncio-aiohttp", 4)]
    assert [(p.strategy, p.workers) for p in points] == expected == started
    assert all(p.requests == p.ok == 8 for p in points)
    assert all(p.wall_s > 0 and p.peak_rss_bytes > 0 for p in points)
    assert all(p.server_peak_in_flight == p.workers for p in points)
    table = sweep_table(points, "title")
    assert table.row_count == 2 and len(table.columns) == 4


def test_sweep_command_writes_json(tmp_path: Path) -> None:
    """`fetcher sweep` prints its table and writes a record per point."""
    out = tmp_path / "sweep.json"
    done = run_fetcher(
        *("sweep", "--count", "6", "--latency", "20ms", "--workers", "1,3"),
        *("--strategies", "threads", "--json", str(out), "--quiet"),
    )
    assert done.returncode == 0, done.stderr
    assert "wall s / peak MB" in done.stdout
    records = json.loads(out.read_text())
    assert [(r["strategy"], r["workers"], r["ok"]) for r in records] == [
        ("threads", 1, 6),
        ("threads", 3, 6),
    ]


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs the plot extra")
def test_sweep_chart_is_written_and_not_empty(tmp_path: Path) -> None:
    """plot_sweep writes a real PNG file."""
    points = [
        SweepPoint(name, n, 10, 10, 1.0 / n, 0.1, (30 + n) * 2**20, n)
        for name in ("threads", "processes")
        for n in (1, 2, 4)
    ]
    path = tmp_path / "sweep.png"
    plot_sweep(points, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000
