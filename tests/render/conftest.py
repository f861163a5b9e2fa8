"""Reports written by the real command line, once per session, for the HTML tests to read."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import FETCHER, WAIT_S, start

# Small runs: the page is the subject here, not the figures.
COMPARE_STRATEGIES = ("threads", "asyncio-aiohttp")
COMPARE_COUNT = 6
# Attributes through which an HTML page or its SVG can ask the browser to load something.
LOADING_ATTRIBUTES = {
    "src",
    "href",
    "xlink:href",
    "srcset",
    "poster",
    "data",
    "action",
    "background",
}


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """compare, sweep and load reports of small real runs against the bundled server.

    The three commands run side by side: their figures do not matter here, their pages do.
    """
    pytest.importorskip("vl_convert", reason="the HTML report needs the html extra")
    folder = tmp_path_factory.mktemp("reports")
    commands = {
        "compare": ["compare", "--count", str(COMPARE_COUNT), "--latency", "20ms",
                    "--strategies", ",".join(COMPARE_STRATEGIES), "--concurrency", "3"],
        "sweep": ["sweep", "--count", "4", "--latency", "10ms", "--strategies", "threads",
                  "--workers", "1,2"],
        "load": ["load", "-z", "1s", "-c", "4", "--latency", "5ms", "--error-rate", "0.1"],
    }  # fmt: skip
    paths = {name: folder / f"{name}.html" for name in commands}
    running = {
        name: start([*FETCHER, *args, "--html", str(paths[name])])
        for name, args in commands.items()
    }
    try:
        for name, process in running.items():
            _, stderr = process.communicate(timeout=WAIT_S * 4)
            assert process.returncode == 0, f"{name}: {stderr}"
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return paths


class _References(HTMLParser):
    """Collects every attribute value and style sheet that could load a resource."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_style = tag == "style"
        for name, value in attrs:
            if name in LOADING_ATTRIBUTES or (name == "style" and "url(" in (value or "")):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style and ("url(" in data or "@import" in data):
            self.found.append(f"style sheet: {data.strip()[:80]}")


def resource_references(page: str) -> list[str]:
    """What in `page` would make a browser fetch something: empty for a self-contained page."""
    parser = _References()
    parser.feed(page)
    return parser.found
