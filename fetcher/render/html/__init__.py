"""Self-contained HTML reports (`--html FILE`, with the html extra): one file, nothing fetched.

page      the document and its pieces: tables, lists, figures, the embedded data
draw      Vega-Lite specs to inline SVG, with vl-convert
charts    the specs: timelines, bars, lines
compare   a page per command, each drawn from its data alone
"""

from fetcher.render.html.compare import compare_data, compare_page
from fetcher.render.html.draw import require_html
from fetcher.render.html.load import load_data, load_page
from fetcher.render.html.page import read_data, write
from fetcher.render.html.sweep import sweep_data, sweep_page

__all__ = [
    "compare_data",
    "compare_page",
    "load_data",
    "load_page",
    "read_data",
    "require_html",
    "sweep_data",
    "sweep_page",
    "write",
]
