"""`fetcher compare --html`: the table, its legend and sentences, cost bars and every request.

`compare_data` gathers what the page shows as JSON-ready data, with the table's cells and the
sentences exactly as the terminal prints them; `compare_page` draws the page from that data
alone, so a tool can re-read it from the page and draw it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from fetcher.compare.summary import RunSummary, StrategyRun
from fetcher.compare.timeline import lanes
from fetcher.models import FetchResult
from fetcher.render.compare import columns, figures, legend_terms
from fetcher.render.html import charts, draw, page

MB = 1024 * 1024


def compare_data(
    summaries: Sequence[RunSummary],
    runs: Mapping[str, StrategyRun],
    sentences: Sequence[str],
    title: str,
) -> dict[str, Any]:
    """Everything the compare page shows, as JSON-ready data; the table's cells and legend are
    the terminal's own."""
    shown = columns(summaries)
    return {
        "command": "compare",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "title": title,
        "table": {
            "columns": ["strategy", *shown],
            "rows": [[s.strategy, *(figures(s)[name] for name in shown)] for s in summaries],
        },
        "legend": dict(legend_terms(summaries)),
        "sentences": list(sentences),
        "summaries": [s.to_json() for s in summaries],
        "runs": {name: _run(run) for name, run in runs.items()},
    }


def _run(run: StrategyRun) -> dict[str, Any]:
    """One run's requests, and what the server saw in flight (ms since the run started)."""
    in_flight = None
    if run.server_in_flight is not None:
        in_flight = [[round(t_s * 1000, 3), peak] for t_s, peak in run.server_in_flight]
    return {"results": [r.to_json() for r in run.results], "server_in_flight": in_flight}


def compare_page(data: Mapping[str, Any]) -> str:
    """The page, drawn from `compare_data`'s data."""
    sections = [
        page.section(
            "What each strategy cost",
            page.table(data["table"]["columns"], data["table"]["rows"]),
            page.definitions(data["legend"]) if data["legend"] else "",
            page.bullets(data["sentences"]),
        ),
        page.section("Wall time and memory", _cost_charts(data["summaries"])),
        page.section(
            "Every request, a lane per worker",
            page.paragraph(
                "Each panel has its own time axis. Hover over or tap a bar for the request's "
                "URL, start, duration, status and attempts."
            ),
            *(
                _timeline(name, run, legend=k == 0)
                for k, (name, run) in enumerate(data["runs"].items())
            ),
        ),
    ]
    return page.document("fetcher compare", data["title"], sections, data)


def _cost_charts(summaries: Sequence[Mapping[str, Any]]) -> str:
    """Wall time (with the ideal as a tick) and peak memory, a bar per strategy."""
    rows = [
        {
            "name": s["strategy"],
            "wall_s": s["wall_s"],
            "ideal_s": s["ideal_s"],
            "peak_mb": s["peak_rss_bytes"] / MB,
            "label": _cost_label(s),
        }
        for s in summaries
    ]
    has_ideal = any(s["ideal_s"] is not None for s in summaries)
    wall = charts.bars(
        "wall time" + (" (tick: the ideal)" if has_ideal else ""),
        rows,
        "wall_s",
        "seconds",
        "ideal_s" if has_ideal else None,
    )
    memory = charts.bars("peak memory", rows, "peak_mb", "MB, children included")
    return page.side_by_side(page.figure(draw.svg(wall)), page.figure(draw.svg(memory)))


def _cost_label(summary: Mapping[str, Any]) -> str:
    ideal = summary["ideal_s"]
    return (
        f"{summary['strategy']}: {summary['wall_s']:.2f} s"
        + ("" if ideal is None else f" (ideal {ideal:.2f} s)")
        + f", peak {summary['peak_rss_bytes'] / MB:.0f} MB"
    )


def _timeline(strategy: str, run: Mapping[str, Any], legend: bool) -> str:
    """One strategy's requests, a lane per worker, on its own time axis; under them, when the
    bundled server counted them, the requests it had in flight."""
    results = [FetchResult.from_json(dict(record)) for record in run["results"]]
    order = list(lanes(results))
    workers = f"{len(order)} worker" + ("" if len(order) == 1 else "s")
    title = f"{strategy}: {workers}, {len(results)} requests"
    end_ms = max((r.ended_s * 1000 for r in results), default=0.0)
    spec = charts.timeline(title, [_bar(r) for r in results], order, end_ms, legend)
    if run["server_in_flight"]:
        steps = [*run["server_in_flight"], [end_ms, run["server_in_flight"][-1][1]]]
        rows = [{"t_ms": t_ms, "in_flight": peak} for t_ms, peak in steps]
        spec = charts.stacked(title, _without_x_title(spec), charts.in_flight(rows, end_ms))
    return page.figure(draw.svg(spec))


def _without_x_title(spec: dict[str, Any]) -> dict[str, Any]:
    """The timeline above the in-flight chart: its title and axis title go to the pair."""
    x = {**spec["encoding"]["x"], "title": None}
    return {**spec, "title": None, "encoding": {**spec["encoding"], "x": x}}


def _bar(result: FetchResult) -> dict[str, Any]:
    """A request as the timeline draws it, with the text its hover shows."""
    start_ms, took_ms = result.started_s * 1000, result.elapsed_s * 1000
    if result.error is not None:
        outcome = "failed"
        answer = str(result.error) + ("" if result.status is None else f" (status {result.status})")
    else:
        outcome = "retried" if result.attempts > 1 else "ok"
        answer = f"status {result.status}"
    attempts = f"{result.attempts} attempt" + ("" if result.attempts == 1 else "s")
    return {
        "lane": result.worker,
        "start_ms": round(start_ms, 2),
        "end_ms": round(start_ms + took_ms, 2),
        "outcome": outcome,
        "label": f"{result.url} · start {start_ms:.1f} ms · took {took_ms:.1f} ms · "
        f"{answer} · {attempts}",
    }
