"""docs/production-loop.md shows the real code: each listing appears verbatim in its source."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "production-loop.md"
LISTING = re.compile(r"<!-- listing: (?P<path>\S+) -->\n```python\n(?P<code>.*?)\n```", re.DOTALL)


def listings() -> list[tuple[str, str]]:
    """(source path, code) for every listing in the page."""
    return [(m["path"], m["code"]) for m in LISTING.finditer(DOC.read_text(encoding="utf-8"))]


def test_page_has_the_aiohttp_and_threads_loops() -> None:
    """The page lists the asyncio loop and the threads loop, the two a reader copies."""
    paths = {path for path, _ in listings()}
    assert {"fetcher/strategies/asyncio_aiohttp.py", "fetcher/strategies/threads.py"} <= paths


def test_every_listing_is_verbatim_in_its_source() -> None:
    """No listing has drifted from the code it claims to show."""
    for path, code in listings():
        assert code in (ROOT / path).read_text(encoding="utf-8"), f"listing from {path} drifted"
