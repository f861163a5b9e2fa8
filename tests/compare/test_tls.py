"""`fetcher compare --tls`: the connections and handshakes each strategy cost, and why."""

from __future__ import annotations

import json
from pathlib import Path

from fetcher.compare.explain import explain
from fetcher.compare.machine import Conditions
from fetcher.render.compare import TLS_FIGURES, comparison_table
from tests.conftest import run_fetcher, summary


def test_compare_tls_counts_each_strategys_connections_end_to_end(tmp_path: Path) -> None:
    """Over HTTPS the table gains the server's counts: one connection for sequential, one per
    task for asyncio-aiohttp; --no-keepalive makes it one per request, and a sentence says so."""
    out = tmp_path / "c.json"
    args = ["compare", "--tls", "--count", "12", "--latency", "30ms", "--concurrency", "4"]
    args += ["--quiet", "--json", str(out)]
    kept = run_fetcher(*args, "--strategies", "sequential,asyncio-aiohttp")
    assert kept.returncode == 0, kept.stderr
    assert "over HTTPS" in kept.stdout and "new conns" in kept.stdout
    counts = {
        s["strategy"]: (s["connections"], s["handshakes"]) for s in json.loads(out.read_text())
    }
    assert counts == {"sequential": (1, 1), "asyncio-aiohttp": (4, 4)}
    assert "TLS handshakes were paid" not in kept.stdout
    fresh = run_fetcher(*args, "--strategies", "asyncio-aiohttp", "--no-keepalive")
    assert fresh.returncode == 0, fresh.stderr
    assert [s["handshakes"] for s in json.loads(out.read_text())] == [12]
    sentence = (
        "TLS handshakes were paid for most requests (asyncio-aiohttp 12 for 12): a connection"
    )
    assert sentence in fresh.stdout


def test_the_tls_columns_appear_only_when_handshakes_were_counted() -> None:
    """A plain-HTTP run keeps its table; a TLS run gains `new conns` and `handshakes`."""
    plain = [summary("sequential", connections=1, handshakes=0)]
    over_tls = [summary("sequential", connections=1, handshakes=1)]
    headers = [c.header for c in comparison_table(plain, "t", width=400).columns]
    assert not set(TLS_FIGURES) & set(headers)
    headers = [c.header for c in comparison_table(over_tls, "t", width=400).columns]
    assert headers[-2:] == list(TLS_FIGURES)


def test_the_sentence_names_who_paid_handshakes_and_who_kept_connections() -> None:
    """Workers that each opened a connection on a short batch, against one kept-alive session."""
    runs = [
        summary("sequential", 10.0, connections=1, handshakes=1),
        summary("asyncio-aiohttp", 0.2, workers=100, connections=100, handshakes=100),
    ]
    text = " ".join(explain(runs, Conditions(latency_s=0.1, cpu_ms=0.0, processes=2)))
    assert "TLS handshakes were paid for most requests (asyncio-aiohttp 100 for 100)" in text
    assert "each worker opened its own connection" in text
    assert "where sequential kept its connections alive: 1 for 100 requests" in text
