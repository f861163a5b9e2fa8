"""The HTML reports in a real browser: headless Chromium from the OS packages, driven by Playwright.

Skips, saying why, where no Chromium is installed (`apt-get install chromium`; or point
FETCHER_CHROMIUM at one) or the test extra's Playwright is missing. Playwright never downloads
a browser here: it drives the one given by path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.render.conftest import COMPARE_STRATEGIES

# Without these Chromium reaches for Google's services at start-up, on a machine with no network.
CHROMIUM_ARGS = [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# A drawn mark of any chart: Vega labels each one for screen readers.
DRAWN = "svg [aria-roledescription]:not(g)"
MARK = f"figure {DRAWN}"


def _chromium() -> str | None:
    """The browser to drive: $FETCHER_CHROMIUM, or the first Chromium on PATH."""
    if "FETCHER_CHROMIUM" in os.environ:
        return os.environ["FETCHER_CHROMIUM"] or None
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


CHROMIUM = _chromium()
# Decided before any fixture runs, so a machine without a browser does not make the reports.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: apt-get install chromium, or set FETCHER_CHROMIUM"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright comes with the test extra")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for this module.

    Module-scoped, not session-scoped: while Playwright's sync API is open its event loop counts
    as running in this thread, and other tests' `asyncio.run` would refuse to start.
    """
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    """A report open in a fresh browser context, with what the page said and asked for."""

    page: Any
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def _open(browser: Any, report: Path, **context: Any) -> Iterator[Opened]:
    ctx = browser.new_context(**context)
    opened = Opened(ctx.new_page())
    opened.page.on(
        "console", lambda m: m.type in ("error", "warning") and opened.problems.append(m.text)
    )
    opened.page.on("pageerror", lambda error: opened.problems.append(str(error)))
    opened.page.on("request", lambda request: opened.requests.append(request.url))
    opened.page.goto(report.as_uri())
    try:
        yield opened
    finally:
        ctx.close()


@pytest.mark.parametrize("name", ["compare", "sweep", "load"])
def test_report_draws_without_console_errors(
    browser: Any, reports: dict[str, Path], name: str, tmp_path: Path
) -> None:
    """Every chart has marks, the console stays quiet, and a screenshot is kept."""
    with _open(browser, reports[name], viewport={"width": 1000, "height": 800}) as opened:
        figures = opened.page.locator("figure")
        assert figures.count() > 0
        for k in range(figures.count()):
            assert figures.nth(k).locator(DRAWN).count() > 0, f"figure {k} of {name} drew nothing"
        assert opened.problems == []
        shot = tmp_path / f"{name}.png"
        opened.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("name", ["compare", "sweep", "load"])
def test_report_needs_no_network(browser: Any, reports: dict[str, Path], name: str) -> None:
    """Offline, the page asks for nothing but itself and still draws."""
    with _open(browser, reports[name], offline=True) as opened:
        assert opened.requests == [reports[name].as_uri()]
        assert opened.page.locator(MARK).count() > 0
        assert opened.problems == []


def test_tables_and_charts_need_no_javascript(browser: Any, reports: dict[str, Path]) -> None:
    """With JavaScript off the comparison table and the charts are all there."""
    with _open(browser, reports["compare"], java_script_enabled=False) as opened:
        assert opened.page.locator("table").first.locator("tbody tr").count() == len(
            COMPARE_STRATEGIES
        )
        assert opened.page.locator(MARK).count() > 0


def test_hovering_a_request_shows_its_details(browser: Any, reports: dict[str, Path]) -> None:
    """The tooltip shows the bar's URL; on a phone-sized screen the page does not overflow."""
    with _open(browser, reports["compare"], viewport={"width": 390, "height": 844}) as opened:
        bar = opened.page.locator('figure svg [aria-label^="http://127.0.0.1"]').first
        bar.hover()
        tip = opened.page.locator("#tip")
        assert tip.is_visible()
        assert tip.inner_text() == bar.get_attribute("aria-label")
        width = opened.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
