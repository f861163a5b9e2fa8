"""The reports' charts as Vega-Lite specs: plain data, drawn by `draw.svg`.

Each function takes JSON-ready rows and returns a spec; none draws. Every mark that stands for
something a reader may ask about carries a `description`, which becomes its hover text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

Spec = dict[str, Any]
Row = Mapping[str, Any]

WIDTH = 560
NARROW = 300
OK, RETRIED, FAILED = "#4c78a8", "#f58518", "#e45756"
OUTCOMES = {"ok": OK, "retried": RETRIED, "failed": FAILED}
SERVER = "#72b7b2"
# Lanes are drawn this tall when there are few; many lanes share MAX_LANES_PX.
LANE_PX = 14
MIN_LANE_PX = 2
MAX_LANES_PX = 300
# Fewer ticks than Vega would choose: a browser's sans-serif may be wider than the one it measured.
X_TICKS = 6


def _frame(title: str | None, rows: Sequence[Row], width: int, height: Any) -> Spec:
    """What every chart starts with: its title, size and rows."""
    return {"title": title, "width": width, "height": height, "data": {"values": list(rows)}}


def timeline(
    title: str, bars: Sequence[Row], lanes: Sequence[str], end_ms: float, legend: bool = True
) -> Spec:
    """A lane per worker, a bar per request from `start_ms` to `end_ms`, coloured by outcome,
    on an axis from 0 to `end_ms`."""
    few = len(lanes) <= 12
    step = LANE_PX if few else max(MIN_LANE_PX, min(LANE_PX, MAX_LANES_PX // len(lanes)))
    lane_axis = {"title": None} if few else {"title": f"{len(lanes)} workers", "labels": False}
    return {
        **_frame(title, bars, WIDTH, max(step * len(lanes), LANE_PX)),
        "mark": {"type": "bar", "cornerRadius": 0},
        "encoding": {
            "y": {"field": "lane", "type": "ordinal", "sort": list(lanes), "axis": lane_axis},
            "x": _batch_time("start_ms", end_ms),
            "x2": {"field": "end_ms"},
            "color": _outcome_colour(legend),
            "description": {"field": "label"},
        },
    }


def _batch_time(field: str, end_ms: float) -> dict[str, Any]:
    """The x axis of a run's charts: ms from 0 to the run's end, the same for each of them."""
    return {
        "field": field,
        "type": "quantitative",
        "title": "ms since the batch started",
        "scale": {"domain": [0, end_ms]},
        "axis": {"tickCount": X_TICKS},
    }


def _outcome_colour(legend: bool) -> dict[str, Any]:
    return {
        "field": "outcome",
        "type": "nominal",
        "scale": {"domain": list(OUTCOMES), "range": list(OUTCOMES.values())},
        "legend": {"title": None} if legend else None,
    }


def in_flight(rows: Sequence[Row], end_ms: float) -> Spec:
    """Requests in flight over time as the server counted them, a step per change."""
    most = max((int(row["in_flight"]) for row in rows), default=0)
    return {
        **_frame(None, rows, WIDTH, 60),
        "mark": {"type": "area", "interpolate": "step-after", "color": SERVER, "aria": False},
        "encoding": {
            "x": _batch_time("t_ms", end_ms),
            "y": {
                "field": "in_flight",
                "type": "quantitative",
                "title": "in flight (server)",
                "axis": {"values": sorted({0, most // 2, most}), "format": "d"},
            },
        },
    }


def stacked(title: str, *specs: Spec) -> Spec:
    """Charts one above another (give them the same x axis: `_batch_time`)."""
    return {"title": title, "vconcat": list(specs), "spacing": 8}


def bars(title: str, rows: Sequence[Row], value: str, unit: str, tick: str | None = None) -> Spec:
    """A horizontal bar per `name`, its length `value`; a black tick at `tick` when given."""
    encoding = {
        "y": {"field": "name", "type": "nominal", "sort": None, "title": None},
        "x": {"field": value, "type": "quantitative", "title": unit},
        "description": {"field": "label"},
    }
    layers: list[Spec] = [{"mark": "bar", "encoding": encoding}]
    if tick is not None:
        tick_encoding = {**encoding, "x": {"field": tick, "type": "quantitative"}}
        layers.append(
            {"mark": {"type": "tick", "color": "black", "thickness": 2}, "encoding": tick_encoding}
        )
    return {
        **_frame(title, rows, NARROW, {"step": 20}),
        "layer": layers,
    }


def lines(title: str, rows: Sequence[Row], x: tuple[str, str], y: tuple[str, str]) -> Spec:
    """A line with points per `series` on a log-2 x axis ticked at the x values themselves;
    `x` and `y` are (field, axis title)."""
    ticks = sorted({row[x[0]] for row in rows})
    encoding = {
        "x": {
            "field": x[0],
            "type": "quantitative",
            "title": x[1],
            "scale": {"type": "log", "base": 2},
            "axis": {"values": ticks},
        },
        "y": {"field": y[0], "type": "quantitative", "title": y[1]},
        "color": {"field": "series", "type": "nominal", "title": None},
    }
    return {
        **_frame(title, rows, NARROW, 200),
        "encoding": encoding,
        "layer": _line_with_points(),
    }


def _line_with_points(interpolate: str = "linear") -> list[Spec]:
    """A line that says nothing on hover, and a point per row that tells its `label`."""
    return [
        {"mark": {"type": "line", "interpolate": interpolate, "aria": False}},
        {
            "mark": {"type": "point", "filled": True, "size": 30},
            "encoding": {"description": {"field": "label"}},
        },
    ]


def spectrum(title: str, rows: Sequence[Row], top_nines: float) -> Spec:
    """Latency by percentile on HdrHistogram's axes: x in nines (1 is 90%), y on a log scale."""
    ticks = list(range(math.floor(top_nines) + 1))
    labels = [f"{100 - 100 / 10**n:g}%" for n in ticks]
    return {
        **_frame(title, rows, WIDTH, 240),
        "encoding": {
            "x": {
                "field": "nines",
                "type": "quantitative",
                "title": "percentile",
                "axis": {"values": ticks, "labelExpr": f"{labels}[round(datum.value)]"},
            },
            "y": {
                "field": "ms",
                "type": "quantitative",
                "title": "latency, ms (log scale)",
                "scale": {"type": "log", "nice": False},
            },
            "color": {"field": "series", "type": "nominal", "title": None},
        },
        "layer": _line_with_points("step-after"),
    }


def histogram(title: str, rows: Sequence[Row]) -> Spec:
    """Requests per latency bucket, each bucket a bar from `from_ms` to `to_ms`."""
    return {
        **_frame(title, rows, WIDTH, 160),
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 0.5},
        "encoding": {
            "x": {"field": "from_ms", "type": "quantitative", "title": "latency, ms"},
            "x2": {"field": "to_ms"},
            "y": {"field": "count", "type": "quantitative", "title": "requests"},
            "y2": {"datum": 0},
            "description": {"field": "label"},
        },
    }


def over_time(title: str, rows: Sequence[Row], y_title: str) -> Spec:
    """A value per interval of the run (`t_s`, `value`), a line per `series`."""
    return {
        **_frame(title, rows, WIDTH, 140),
        "encoding": {
            "x": {
                "field": "t_s",
                "type": "quantitative",
                "title": "seconds into the run",
                "scale": {"zero": True},
            },
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "color": {"field": "series", "type": "nominal", "title": None},
        },
        "layer": _line_with_points("step-before"),
    }
