"""The HTML reports as files: self-contained, drawn from the data they embed, each request shown."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

import pytest

from fetcher.cli import exits
from fetcher.compare.summary import RunSummary, StrategyRun, SweepPoint
from fetcher.errors import MissingExtraError
from fetcher.models import ErrorKind, FetchResult
from fetcher.render.compare import columns, figures, legend_terms
from fetcher.render.html import (
    compare_data,
    compare_page,
    load_page,
    read_data,
    sweep_data,
    sweep_page,
)
from fetcher.render.html.draw import require_html, tidy
from tests.conftest import run_fetcher, summary
from tests.render.conftest import COMPARE_COUNT, COMPARE_STRATEGIES, resource_references

pytest.importorskip("vl_convert", reason="the HTML report needs the html extra")

URL = "http://127.0.0.1:9/items/{}"


def _result(index: int, worker: str, start_s: float, **changes: Any) -> FetchResult:
    result = FetchResult(
        index=index, url=URL.format(index), status=200, nbytes=10, started_s=start_s,
        ended_s=start_s + 0.1, worker=worker,
    )  # fmt: skip
    return replace(result, **changes)


def _summary(strategy: str, results: list[FetchResult]) -> RunSummary:
    ok = sum(r.ok for r in results)
    return summary(
        strategy, 0.25, requests=len(results), ok=ok, failed=len(results) - ok,
        p99_ms=float("nan"), server_peak_in_flight=2, ideal_s=0.2, efficiency=0.8,
        limited_by="2 workers", limit_ideal_s=0.2, limit_formula="ceil(3 / 2 at once) x 100 ms",
    )  # fmt: skip


RUNS = {
    "threads": [
        _result(0, "thread-1", 0.0),
        _result(1, "thread-2", 0.01, attempts=3),
        _result(2, "thread-1", 0.11, status=503, error=ErrorKind.HTTP_STATUS),
    ],
    "asyncio-aiohttp": [_result(0, "task-0", 0.0), _result(1, "task-1", 0.0)],
}
SENTENCES = ["threads <waited> & overlapped", "asyncio-aiohttp did too"]


def _page() -> tuple[dict[str, Any], str]:
    summaries = [_summary(name, results) for name, results in RUNS.items()]
    runs = {name: StrategyRun(name, results, 0.25, 0.01, 1, 2) for name, results in RUNS.items()}
    runs["threads"] = replace(runs["threads"], server_in_flight=((0.0, 1), (0.01, 2), (0.2, 0)))
    data = compare_data(summaries, runs, SENTENCES, "a <small> batch")
    return data, compare_page(data)


def _labels(page: str) -> list[str]:
    """The hover text of every request's bar."""
    return re.findall(r'aria-label="(http://127\.0\.0\.1:\d+/items/[^"]*)"', page)


def test_compare_page_draws_a_bar_per_request_with_its_details() -> None:
    """Each request is a mark whose hover text gives URL, start, duration, status, attempts."""
    _, page = _page()
    labels = _labels(page)
    assert len(labels) == sum(len(results) for results in RUNS.values())
    assert (
        "http://127.0.0.1:9/items/1 · start 10.0 ms · took 100.0 ms · status 200 · 3 attempts"
        in labels
    )
    assert any(
        "items/2 · start 110.0 ms" in label and "http_status (status 503)" in label
        for label in labels
    )


def test_compare_page_shows_the_table_legend_and_sentences_as_the_terminal_does() -> None:
    """Table cells come from the terminal's own formatting; text is escaped, not interpreted."""
    data, page = _page()
    for row in data["table"]["rows"]:
        assert "".join(f"<td>{escape(cell)}</td>" for cell in row[1:]) in page
    summaries = [_summary(name, results) for name, results in RUNS.items()]
    cells = figures(summaries[0])
    assert [cells[name] for name in columns(summaries)] == data["table"]["rows"][0][1:]
    assert data["table"]["columns"] == ["strategy", *columns(summaries)]
    assert escape(SENTENCES[0]) in page and SENTENCES[0] not in page
    for name, meaning in legend_terms(summaries):
        assert f"<dt>{escape(name)}</dt><dd>{escape(meaning)}</dd>" in page
    assert "here 0.20 s = ceil(3 / 2 at once) x 100 ms" in page
    assert escape("a <small> batch") in page


def test_page_embeds_the_data_it_was_drawn_from() -> None:
    """A tool can read the data back, and drawing from it gives the same page."""
    _, page = _page()
    again = read_data(page)
    assert again["summaries"][0]["p99_ms"] is None  # NaN is not JSON
    assert again["runs"]["threads"]["results"][1]["attempts"] == 3
    assert again["runs"]["threads"]["server_in_flight"] == [[0.0, 1], [10.0, 2], [200.0, 0]]
    assert again["runs"]["asyncio-aiohttp"]["server_in_flight"] is None
    assert page.count(">in flight (server)</text>") == 1
    assert compare_page(again) == page


def test_page_loads_nothing_from_outside() -> None:
    """No script, style sheet, font or image is referenced: the page is the whole report."""
    _, page = _page()
    assert resource_references(page) == []
    assert resource_references('<img src="https://example.com/x.png">') != []


@pytest.mark.parametrize("name", ["compare", "sweep", "load"])
def test_reports_of_real_runs_are_self_contained(reports: dict[str, Path], name: str) -> None:
    """Each command's report references no resource, and stays small."""
    page = reports[name].read_text(encoding="utf-8")
    assert resource_references(page) == []
    assert read_data(page)["command"] == name
    assert len(page.encode()) < 200_000


def test_compare_report_of_a_real_run_draws_every_request(reports: dict[str, Path]) -> None:
    """The command's page has a bar for each request of each strategy it ran."""
    page = reports["compare"].read_text(encoding="utf-8")
    data = read_data(page)
    assert list(data["runs"]) == list(COMPARE_STRATEGIES)
    assert len(_labels(page)) == COMPARE_COUNT * len(COMPARE_STRATEGIES)
    for run, record in zip(data["runs"].values(), data["summaries"], strict=True):
        peaks = [peak for _, peak in run["server_in_flight"]]
        assert max(peaks) == record["server_peak_in_flight"]
    assert page.count(">in flight (server)</text>") == len(COMPARE_STRATEGIES)


def test_tidy_rounds_geometry_and_leaves_text_alone() -> None:
    """Coordinates lose their 15 digits; a label's numbers stay as Vega wrote them."""
    path = '<path aria-label="took 16.25 ms" d="M1.23456,2.5h3.14159Z"/>'
    svg = f'<svg xmlns="http://www.w3.org/2000/svg">{path}</svg>'
    assert tidy(svg) == '<svg><path aria-label="took 16.25 ms" d="M1.2,2.5h3.1Z"/></svg>'


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without vl-convert the error says which extra to install."""
    monkeypatch.setitem(sys.modules, "vl_convert", None)
    with pytest.raises(MissingExtraError, match=r"--html needs the 'html' extra"):
        require_html(tmp_path / "report.html")


@pytest.mark.parametrize("command", ["compare", "sweep", "load"])
def test_a_report_with_nowhere_to_go_is_refused_before_the_run(
    command: str, tmp_path: Path
) -> None:
    """A missing folder is a one-line usage error before any request, not after the run."""
    target = tmp_path / "no-such-folder" / "report.html"
    done = run_fetcher(command, "--html", str(target))
    assert done.returncode == exits.USAGE
    problem = f"--html {target}: there is no folder {target.parent} to write it in"
    assert done.stderr.strip().splitlines() == [f"fetcher {command}: error: {problem}"]


def test_sweep_page_draws_each_point_in_both_charts() -> None:
    """Wall time and memory: a labelled point per strategy and worker count, and the table."""
    points = [
        SweepPoint("sequential", 1, 4, 4, 0.4, 0.01, 30 << 20, 1),
        SweepPoint("threads", 1, 4, 4, 0.4, 0.01, 31 << 20, 1),
        SweepPoint("threads", 4, 4, 3, 0.1, 0.02, 33 << 20, 4),
    ]
    page = sweep_page(sweep_data(points, "4 requests"))
    assert "threads with 4 workers: 0.10 s" in page
    assert "threads with 4 workers: 33 MB" in page
    assert len(re.findall(r'aria-label="\w+ with \d workers: ', page)) == 2 * len(points)
    assert "<td>0.10 / 33 (1 failed)</td>" in page
    assert read_data(page)["points"][2]["ok"] == 3


def test_load_page_shows_the_verdict_spectrum_and_series(reports: dict[str, Path]) -> None:
    """From a real run's data: the verdict as the terminal words it, every spectrum point and
    every interval of the series drawn."""
    data = read_data(reports["load"].read_text(encoding="utf-8"))
    page = load_page(data)
    assert f'<p class="verdict">{escape(data["verdict"])}</p>' in page
    spectrum = data["latency_spectrum_ms"]
    assert len(re.findall(r'aria-label="latency: p[\d.]+ = ', page)) == len(spectrum)
    assert f"latency: p100 = {spectrum[-1]['ms']:,.3f} ms" in page
    rates = re.findall(r'aria-label="[\d.]+ to [\d.]+ s: ([\d,]+) responses/s"', page)
    assert len(rates) == len(data["series"]) > 0
    first = data["series"][0]["responses"] / data["series_interval_s"]
    assert rates[0] == f"{first:,.0f}"


def test_load_page_shows_the_servers_view_connections_and_the_stopping_signal(
    reports: dict[str, Path],
) -> None:
    """The real run's bundled server: its connections (the run's -c 4) and what its peak counts,
    as the terminal says it; an interrupted run names its signal, not Ctrl-C whatever it was."""
    data = read_data(reports["load"].read_text(encoding="utf-8"))
    page = load_page(data)
    assert data["server"]["connections"] == data["connections"] == 4
    assert "<dt>connections</dt><dd>4</dd>" in page  # the run's settings
    assert '<th scope="row">connections used</th><td>4</td>' in page  # the server's count
    assert escape("one still waiting in its socket or event loop is not counted") in page
    stopped = load_page({**data, "interrupted": True, "stopped_by": "SIGTERM"})
    assert "the figures cover the run up to SIGTERM" in stopped


def test_load_page_labels_the_open_models_latency_over_time_uncorrected(
    reports: dict[str, Path],
) -> None:
    """The series is of service times: beside an open run's corrected percentiles its chart
    says it is uncorrected; a closed run's has nothing to correct."""
    data = read_data(reports["load"].read_text(encoding="utf-8"))
    assert "latency over time, uncorrected" not in load_page(data)
    opened = {**data, "latency_uncorrected_ms": data["latency_ms"]}
    assert "latency over time, uncorrected" in load_page(opened)


def test_load_page_without_responses_says_so(reports: dict[str, Path]) -> None:
    """No response, no latency charts: a sentence says why instead."""
    data = read_data(reports["load"].read_text(encoding="utf-8"))
    page = load_page({**data, "responses": 0, "status": {}, "errors": {"connection_refused": 9}})
    assert "No request got a response" in page
    assert "latency by percentile" not in page and "connection_refused" in page
