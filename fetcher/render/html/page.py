"""One self-contained HTML page: the pieces (tables, lists, figures) and the document itself.

Everything the page uses is in the file: the style sheet, the charts as inline SVG, a small
script for tooltips, and the JSON the page was built from (`read_data` gets it back), so the
page opens offline, shares as one attachment, and can be re-read by tools.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from fetcher.errors import FetcherError

DATA_ID = "fetcher-data"
_DATA = re.compile(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', re.S)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def document(title: str, lede: str, sections: Iterable[str], data: Mapping[str, Any]) -> str:
    """The whole page: head, the sections in order, the embedded data and the tooltip script."""
    return "\n".join(
        (
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>\n<style>\n{_asset('page.css')}</style>\n</head>",
            f'<body>\n<header><h1>{escape(title)}</h1><p class="lede">{escape(lede)}</p></header>',
            "<main>",
            *sections,
            "</main>",
            f"<footer>{escape(_footer(data))}</footer>",
            '<div id="tip" hidden></div>',
            f'<script type="application/json" id="{DATA_ID}">{embed(data)}</script>',
            f"<script>\n{_asset('tooltip.js')}</script>\n</body>\n</html>\n",
        )
    )


def _footer(data: Mapping[str, Any]) -> str:
    return (
        f"Written by fetcher {data.get('command', '')} at {data.get('created', '?')}. "
        f"The charts were drawn with Vega-Lite when the page was written; the figures they "
        f'show are in this file as JSON (script id="{DATA_ID}").'
    )


def embed(data: Mapping[str, Any]) -> str:
    """`data` as JSON safe inside a script element (`<` escaped, NaN as null)."""
    return json.dumps(jsonable(data), separators=(",", ":"), allow_nan=False).replace(
        "<", "\\u003c"
    )


def jsonable(value: Any) -> Any:
    """`value` with every NaN turned into None: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def read_data(page: str) -> dict[str, Any]:
    """The data a page was built from."""
    found = _DATA.search(page)
    if found is None:
        raise FetcherError("not a fetcher report: it has no embedded data")
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def write(path: Path, page: str) -> None:
    """Write the page, saying clearly when the file cannot be written."""
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise FetcherError(f"cannot write the report to {path}: {error.strerror}") from None


def section(heading: str, *parts: str) -> str:
    """A titled part of the page."""
    return "\n".join((f"<section>\n<h2>{escape(heading)}</h2>", *parts, "</section>"))


def paragraph(text: str, css_class: str = "") -> str:
    """A paragraph of plain text."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def bullets(items: Iterable[str]) -> str:
    """A bulleted list of plain text."""
    return "<ul>\n" + "\n".join(f"<li>{escape(item)}</li>" for item in items) + "\n</ul>"


def definitions(terms: Mapping[str, str]) -> str:
    """Terms and what they mean (a legend, a run's settings)."""
    pairs = (f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in terms.items())
    return "<dl>\n" + "\n".join(pairs) + "\n</dl>"


def table(columns: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """A table that scrolls sideways on a narrow screen; the first column names the row."""
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in columns)
    body = "\n".join(_row(row) for row in rows)
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table>{caption_html}\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _row(cells: Sequence[str]) -> str:
    first, *rest = cells
    return (
        f'<tr><th scope="row">{escape(first)}</th>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in rest)
        + "</tr>"
    )


def side_by_side(*parts: str) -> str:
    """Figures next to each other where the screen is wide enough, else one under another."""
    return '<div class="charts">' + "".join(parts) + "</div>"


def figure(svg: str, caption: str = "") -> str:
    """A chart (inline SVG from `draw.svg`) with an optional caption under it."""
    caption_html = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{caption_html}</figure>"
