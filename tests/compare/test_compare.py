"""`fetcher compare` and `fetcher fetch` end to end, and the figures compare computes."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

from fetcher.compare.stats import ideal_s, percentile
from fetcher.compare.summary import (
    StrategyRun,
    against_ideal,
    combine,
    summarize,
    with_speedups,
)
from fetcher.config import FetchConfig
from fetcher.models import ErrorKind, FetchResult
from mock_server import MockServer
from tests.conftest import run_fetcher, summary

JSON_KEYS = {
    "strategy",
    "requests",
    "ok",
    "failed",
    "wall_s",
    "requests_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "cpu_s",
    "peak_rss_bytes",
    "workers",
    "server_peak_in_flight",
    "ideal_s",
    "efficiency",
    "limited_by",
    "limit_ideal_s",
    "limit_formula",
    "client_peak_in_flight",
}


def test_compare_on_the_embedded_default_end_to_end(tmp_path: Path) -> None:
    """compare starts the bundled server, runs the strategies, writes JSON and CSV that parse."""
    out_json, out_csv = tmp_path / "c.json", tmp_path / "c.csv"
    done = run_fetcher(
        "compare",
        "--count",
        "12",
        "--latency",
        "300ms",
        "--concurrency",
        "6",
        "--strategies",
        "sequential,threads,asyncio-aiohttp,processes",
        "--processes",
        "2",
        "--json",
        str(out_json),
        "--csv",
        str(out_csv),
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert "sequential" in done.stdout and "efficiency" in done.stdout
    records = {r["strategy"]: r for r in json.loads(out_json.read_text())}
    assert list(records) == ["sequential", "threads", "asyncio-aiohttp", "processes"]
    for record in records.values():
        assert set(record) >= JSON_KEYS
        assert (record["requests"], record["ok"], record["failed"]) == (12, 12, 0)
    peaks = {name: r["server_peak_in_flight"] for name, r in records.items()}
    assert peaks == {"sequential": 1, "threads": 6, "asyncio-aiohttp": 6, "processes": 2}
    # One ideal for the comparison: 12 requests, 6 at once, 300 ms each.
    assert [r["ideal_s"] for r in records.values()] == [pytest.approx(0.6)] * 4
    limits = {name: (r["limited_by"], r["limit_ideal_s"]) for name, r in records.items()}
    assert limits == {
        "sequential": ("1 at a time", pytest.approx(3.6)),
        "threads": (None, pytest.approx(0.6)),
        "asyncio-aiohttp": (None, pytest.approx(0.6)),
        "processes": ("2 processes", pytest.approx(1.8)),
    }
    efficiency = {name: r["efficiency"] for name, r in records.items()}
    assert efficiency["asyncio-aiohttp"] > efficiency["processes"] > efficiency["sequential"]
    rows = list(csv.DictReader(out_csv.open()))
    assert [row["strategy"] for row in rows] == list(records)
    assert all(int(row["requests"]) == 12 for row in rows)
    assert not re.search(r"^start-up s +time before", done.stdout, re.M)  # --quiet: no legend


def test_compare_on_a_url_file_reports_no_server_view(tmp_path: Path, server: MockServer) -> None:
    """Against a URL file the server's peak and the ideal time are unknown, written as null."""
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(server.url_for(f"/items/{i}\n") for i in range(5)))
    out_json = tmp_path / "c.json"
    done = run_fetcher(
        "compare", str(urls), "--strategies", "asyncio-aiohttp", "--json", str(out_json)
    )
    assert done.returncode == 0, done.stderr
    [record] = json.loads(out_json.read_text())
    assert record["server_peak_in_flight"] is None and record["ideal_s"] is None
    assert record["ok"] == 5
    # The legend defines what the table shows, and nothing it could not measure.
    assert re.search(r"^start-up s +time before the first request", done.stdout, re.M)
    assert not re.search(r"^efficiency +the ideal", done.stdout, re.M)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "--concurrency", "0"], "argument -c/--concurrency: '0' must be at least 1"),
        (["compare", "--strategies", "threads,fork"], "unknown strategy 'fork'"),
        (["compare", "--latency", "soon"], "bad duration 'soon'"),
        (
            ["compare", "urls.txt", "--count", "5"],
            "--count and --latency shape the generated batch",
        ),
        (["fetch", "missing.txt"], "cannot read URL file missing.txt"),
    ],
)
def test_bad_flags_get_one_line_errors_and_exit_2(args: list[str], message: str) -> None:
    """A bad flag or file names the problem and exits 2, before any request."""
    done = run_fetcher(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def result(
    index: int, started_s: float, ended_s: float, error: ErrorKind | None = None
) -> FetchResult:
    """A result with just the fields the figures use."""
    return FetchResult(index, f"u{index}", 200, 10, started_s, ended_s, "w", error)


def test_summarize_computes_the_figures_from_the_results() -> None:
    """Latency percentiles use successful requests only; ideal and efficiency follow the workers."""
    results = [result(i, 0.0, 0.1 * (i + 1)) for i in range(10)] + [
        result(10, 0.0, 5.0, ErrorKind.TIMEOUT)
    ]
    run = StrategyRun(
        "threads", results, wall_s=2.0, cpu_s=0.5, peak_rss_bytes=1, server_peak_in_flight=4
    )
    summary = summarize(run, FetchConfig(concurrency=4), latency_s=0.1)
    assert (summary.requests, summary.ok, summary.failed) == (11, 10, 1)
    assert summary.p50_ms == pytest.approx(500)
    assert summary.p99_ms == pytest.approx(1000)
    assert summary.workers == 4
    assert summary.ideal_s == pytest.approx(0.3)  # ceil(11 / 4) waves of 0.1 s
    assert summary.efficiency == pytest.approx(0.15)
    assert summary.errors == {"timeout": 1}


def test_efficiency_is_against_the_best_ideal_and_ranks_the_rows() -> None:
    """Every row is measured against the best ideal among them; a strategy whose own limit
    allows less keeps `limited_by`, the others lose it."""
    rows = [
        summary("sequential", 10.3, limit_ideal_s=10.0, limited_by="1 at a time"),
        summary("asyncio-aiohttp", 0.14, limit_ideal_s=0.1, limited_by="100 in flight"),
        summary("processes", 5.6, limit_ideal_s=5.0, limited_by="2 processes"),
    ]
    ranked = {s.strategy: s for s in against_ideal(rows)}
    assert {s.ideal_s for s in ranked.values()} == {0.1}
    assert ranked["asyncio-aiohttp"].efficiency == pytest.approx(0.1 / 0.14)
    assert ranked["processes"].efficiency == pytest.approx(0.1 / 5.6)
    limits = {name: s.limited_by for name, s in ranked.items()}
    assert limits == {
        "sequential": "1 at a time",
        "asyncio-aiohttp": None,
        "processes": "2 processes",
    }


def test_combine_reports_the_median_with_its_range() -> None:
    """Repeats collapse to the median wall time, with min and max kept."""
    combined = combine([summary("threads", w) for w in (3.0, 1.0, 2.0)])
    assert (combined.wall_s, combined.wall_min_s, combined.wall_max_s) == (2.0, 1.0, 3.0)
    assert combined.repeats == 3


def test_speedup_is_against_the_sequential_run() -> None:
    """Each strategy's speedup is sequential's wall time over its own."""
    speedups = {
        s.strategy: s.speedup
        for s in with_speedups([summary("sequential", 10.0), summary("threads", 0.5)])
    }
    assert speedups == {"sequential": 1.0, "threads": 20.0}


def test_stats_helpers() -> None:
    """Nearest-rank percentiles and the wave model of the ideal time."""
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert math.isnan(percentile([], 50))
    assert ideal_s(1000, 100, 0.1) == pytest.approx(1.0)
    assert ideal_s(1001, 100, 0.1) == pytest.approx(1.1)
