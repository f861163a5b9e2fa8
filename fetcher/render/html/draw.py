"""Vega-Lite specs drawn to static SVG by vl-convert (the `html` extra), ready to inline.

The Vega project's own renderer runs here, at generation time, so the page needs no script and
fetches nothing to show a chart. Every mark keeps the `aria-label` Vega gives it (the spec's
`description`), which screen readers read and the page's small script shows on hover or tap.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fetcher.errors import FetcherError, MissingExtraError

# What every chart shares: no background or frame, so the page's own colours show through.
CONFIG: dict[str, Any] = {
    "background": None,
    "view": {"stroke": None},
    "font": "sans-serif",
    "title": {"anchor": "start", "fontSize": 13, "fontWeight": "bold", "offset": 6},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "top"},
}
# Attributes that hold geometry: vl-convert writes them with 15 digits, a tenth of a pixel
# is plenty, and rounding them halves a timeline's size. Text (labels, tooltips) is untouched.
_GEOMETRY = re.compile(r' (d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"')
_LONG_NUMBER = re.compile(r"-?\d+\.\d{2,}")
# Inline SVG in HTML needs no namespace declarations.
_NAMESPACES = re.compile(r' xmlns(:\w+)?="[^"]*"')


def require_html(path: Path) -> None:
    """Fail early, before a long run, when the report asked for cannot be drawn or written."""
    _converter("--html")
    if not path.parent.is_dir():
        raise FetcherError(f"--html {path}: there is no folder {path.parent} to write it in")


def _converter(feature: str) -> Any:
    try:
        import vl_convert
    except ImportError:
        raise MissingExtraError(feature, "html") from None
    return vl_convert


def svg(spec: dict[str, Any]) -> str:
    """One chart as an `<svg>` element for an HTML page."""
    drawn: str = _converter("--html").vegalite_to_svg({**spec, "config": CONFIG})
    return tidy(drawn)


def tidy(drawn: str) -> str:
    """Round the geometry to 0.1 px and drop the namespace declarations."""
    drawn = _NAMESPACES.sub("", drawn, count=2)
    return _GEOMETRY.sub(_round_attribute, drawn)


def _round_attribute(match: re.Match[str]) -> str:
    value = _LONG_NUMBER.sub(lambda number: f"{float(number.group()):.1f}", match.group(2))
    return f' {match.group(1)}="{value}"'
