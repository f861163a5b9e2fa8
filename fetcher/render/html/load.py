"""`fetcher load --html`: the verdict, the settings, latency by percentile (corrected and
uncorrected, on HdrHistogram's axes), the histogram, throughput and latency over time, statuses
and errors.

The page is drawn from the report's data alone (`fetcher.load.report.to_json`), the same data
the terminal report and `--json` use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from fetcher.render.html import charts, draw, page
from fetcher.render.load import SERVER_IN_FLIGHT

# The smallest latency a log scale draws: a 0 ms percentile (a clock tick) shows as this.
MIN_MS = 0.001
SHOWN_TARGETS = 3


def load_data(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report's data with what the page adds: the command and when it ran."""
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return {"command": "load", "created": created, **report}


def load_page(data: Mapping[str, Any]) -> str:
    """The page, drawn from `load_data`'s data."""
    lede = f"{data['model']} model against {_targets(data)}"
    return page.document("fetcher load", lede, list(_sections(data)), data)


def _targets(data: Mapping[str, Any]) -> str:
    first = data["targets"][0] if data["targets"] else "?"
    more = data["target_count"] - 1
    return first + (f" and {more} more URLs" if more > 0 else "")


def _sections(data: Mapping[str, Any]) -> Iterator[str]:
    yield page.section(
        "The run", *_verdict(data), _figures(data), page.definitions(_settings(data))
    )
    if data["responses"]:
        yield page.section("Latency", _latency_table(data), *_latency_charts(data))
    else:
        yield page.section("Latency", page.paragraph("No request got a response: no latency."))
    yield page.section("Over time", *_over_time(data))
    yield page.section("Statuses and errors", *_counts(data))
    if "server" in data:
        yield page.section(
            "The server's view (/stats)",
            _server_table(data["server"]),
            page.paragraph(SERVER_IN_FLIGHT + "."),
        )


def _verdict(data: Mapping[str, Any]) -> Iterator[str]:
    """The verdict, in the words the terminal report uses, where the run gave one."""
    if "verdict" in data:
        yield page.paragraph(data["verdict"], "verdict")


def _figures(data: Mapping[str, Any]) -> str:
    rows = [
        ["sent", f"{data['sent']:,} in {data['sending_s']:.3f} s = {data['sent_per_s']:,.1f}/s"],
        ["done", f"{data['requests']:,} in {data['duration_s']:.3f} s"],
        ["achieved rate", f"{data['requests_per_s']:,.1f}/s"],
        ["draining", f"{data['drain_s']:.3f} s"],
        ["responses", f"{data['responses']:,} ({_share(data['responses'], data['sent'])} of sent)"],
        ["bytes", f"{data['bytes']:,}"],
        ["unfinished", f"{data['unfinished']:,}"],
    ]
    if "target_rate" in data:
        reached = "yes" if data.get("target_reached") else "no"
        rows.append(["target reached", f"{reached} (target {data['target_rate']:,g}/s)"])
    if "late_starts" in data:
        threshold = f"> {data['late_start_threshold_ms']:g} ms after due"
        rows.append(["late starts", f"{data['late_starts']:,} ({threshold})"])
    rows.append(["limited by", data.get("limited_by") or "-"])
    if data["interrupted"]:
        stop = data.get("stopped_by") or "the stop"
        rows.append(["interrupted", f"yes: the figures cover the run up to {stop}"])
    return page.table(["", "value"], rows)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def _settings(data: Mapping[str, Any]) -> dict[str, str]:
    settings = {
        "model": data["model"],
        "client": data["client"],
        "processes": str(data["processes"]),
        "concurrency": str(data["concurrency"]),
    }
    if data["model"] == "closed":
        settings["connections"] = str(data.get("connections", data["concurrency"]))
    if "target_rate" in data:
        settings["target rate"] = f"{data['target_rate']:,g}/s"
    shown = data["targets"][:SHOWN_TARGETS]
    more = data["target_count"] - len(shown)
    settings["targets"] = ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")
    return settings


def _latency_table(data: Mapping[str, Any]) -> str:
    open_model = "latency_uncorrected_ms" in data
    columns = [("corrected ms" if open_model else "latency ms", data["latency_ms"])]
    if open_model:
        columns.append(("uncorrected ms", data["latency_uncorrected_ms"]))
    rows = [[key, *(f"{values[key]:,.3f}" for _, values in columns)] for key in data["latency_ms"]]
    return page.table(["", *(name for name, _ in columns)], rows)


def _latency_charts(data: Mapping[str, Any]) -> Iterator[str]:
    """The spectrum (both kinds in the open model) and the histogram."""
    open_model = "latency_uncorrected_spectrum_ms" in data
    spectra = {"corrected" if open_model else "latency": data["latency_spectrum_ms"]}
    if open_model:
        spectra["uncorrected"] = data["latency_uncorrected_spectrum_ms"]
    rows = [_spectrum_row(name, point) for name, points in spectra.items() for point in points]
    title = "latency by percentile" + (
        " (corrected: timed from when each request was due)" if open_model else ""
    )
    top_nines = max(row["nines"] for row in rows)
    yield page.figure(draw.svg(charts.spectrum(title, rows, top_nines)))
    buckets = list(_buckets(data["histogram"], data["latency_ms"]["min"]))
    yield page.figure(draw.svg(charts.histogram("latency histogram", buckets)))


def _spectrum_row(series: str, point: Mapping[str, float]) -> dict[str, Any]:
    return {
        "series": series,
        "nines": point["nines"],
        "ms": max(point["ms"], MIN_MS),  # a log scale has no zero
        "label": f"{series}: p{point['percentile']:g} = {point['ms']:,.3f} ms",
    }


def _buckets(rows: Sequence[Mapping[str, Any]], low: float) -> Iterator[dict[str, Any]]:
    """The histogram's buckets, each from the edge before it (the first from the minimum)."""
    for row in rows:
        high = row["to_ms"]
        label = f"{low:,.3f} to {high:,.3f} ms: {row['count']:,} requests"
        yield {"from_ms": low, "to_ms": high, "count": row["count"], "label": label}
        low = high


def _over_time(data: Mapping[str, Any]) -> Iterator[str]:
    """Responses per second and their mean latency, interval by interval (the series the
    verdict reads)."""
    interval_s, series = data["series_interval_s"], data["series"]
    if not series:
        yield page.paragraph("The run was too short to record anything over time.")
        return
    rates, means = [], []
    for k, point in enumerate(series):
        t_s = round((k + 1) * interval_s, 3)
        per_s = point["responses"] / interval_s
        window = f"{t_s - interval_s:g} to {t_s:g} s"
        rates.append(_timed("responses", t_s, per_s, f"{window}: {per_s:,.0f} responses/s"))
        if point["mean_ms"] is not None:
            label = f"{window}: mean latency {point['mean_ms']:,.3f} ms"
            means.append(_timed("mean latency", t_s, point["mean_ms"], label))
    yield page.figure(draw.svg(charts.over_time("throughput", rates, "responses per second")))
    if means:
        # The series is of service times (from sending): the open model's corrected latency
        # is in the percentiles above, and would hide how the target itself moved.
        title = "latency over time" + (", uncorrected" if "latency_uncorrected_ms" in data else "")
        yield page.figure(draw.svg(charts.over_time(title, means, "mean, ms")))


def _timed(series: str, t_s: float, value: float, label: str) -> dict[str, Any]:
    return {"series": series, "t_s": t_s, "value": value, "label": label}


def _counts(data: Mapping[str, Any]) -> Iterator[str]:
    for title, counts in (("status", data["status"]), ("errors", data["errors"])):
        if not counts:
            continue
        rows = [{"name": key, "count": n, "label": f"{key}: {n:,}"} for key, n in counts.items()]
        table = page.table([title, "count"], [[key, f"{n:,}"] for key, n in counts.items()])
        chart = page.figure(draw.svg(charts.bars(title, rows, "count", "requests")))
        yield page.side_by_side(table, chart)
    if not data["status"] and not data["errors"]:
        yield page.paragraph("No request finished.")


def _server_table(stats: Mapping[str, Any]) -> str:
    rows = [
        ["requests", f"{stats.get('requests', 0):,}"],
        ["connections used", f"{stats.get('connections', 0):,}"],
        ["peak in its handlers", f"{stats.get('peak_in_flight', 0):,}"],
    ]
    rows += [[f"status {code}", f"{n:,}"] for code, n in sorted(stats.get("by_status", {}).items())]
    rows += [[f"fault {fault}", f"{n:,}"] for fault, n in sorted(stats.get("faults", {}).items())]
    return page.table(["", "value"], rows)
