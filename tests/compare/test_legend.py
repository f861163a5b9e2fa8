"""The legend under the table, `fetcher compare --help` and docs/compare.md use the same words."""

from __future__ import annotations

import re
from pathlib import Path

from fetcher.compare.summary import LEGEND
from fetcher.render.compare import FIGURES, PERCENTILES, TLS_FIGURES, legend
from tests.conftest import run_fetcher, summary

DOC = Path(__file__).resolve().parents[2] / "docs" / "compare.md"


def words(text: str) -> str:
    """Text with runs of white space as one space, so wrapping does not matter."""
    return re.sub(r"\s+", " ", text)


def test_every_column_of_the_table_has_a_definition() -> None:
    """Each column the table prints (the percentiles as one) is defined in the legend."""
    shown = (*FIGURES, *TLS_FIGURES)
    columns = {"p50/p95/p99 ms" if name in PERCENTILES else name for name in shown}
    assert columns - {"ok/failed"} == {name for name, _ in LEGEND}


def test_help_and_the_doc_carry_the_legend_word_for_word() -> None:
    """Every definition appears in `fetcher compare --help` and in docs/compare.md."""
    done = run_fetcher("compare", "--help")
    assert done.returncode == 0
    help_text, doc = words(done.stdout), words(DOC.read_text(encoding="utf-8"))
    for name, meaning in LEGEND:
        assert meaning in help_text, name
        assert f"| {name} |" in doc and meaning in doc, name


def test_the_legend_works_out_the_ideal_in_figures() -> None:
    """The efficiency line gives the comparison's ideal and how it is reached."""
    rows = [
        summary(
            "sequential", 10.2, limit_ideal_s=10.0, limit_formula="ceil(100 / 1 at once) x 100 ms"
        ),
        summary(
            "threads", 0.2, limit_ideal_s=0.1, limit_formula="ceil(100 / 100 at once) x 100 ms"
        ),
    ]
    lines = legend(rows)
    plain = [name for name, _ in LEGEND if name not in TLS_FIGURES]
    assert [line.split()[0] for line in lines] == [name.split()[0] for name in plain]
    assert lines[8].endswith("(here 0.10 s = ceil(100 / 100 at once) x 100 ms)")


def test_against_a_url_file_the_legend_leaves_out_what_was_not_measured() -> None:
    """No latency, no ideal: the efficiency and limit lines would define empty columns."""
    lines = legend([summary("threads", 0.2)])
    assert not any(line.startswith(("efficiency", "limited by")) for line in lines)


def test_over_tls_the_legend_defines_the_connection_columns() -> None:
    """The connection and handshake lines appear only when the server counted handshakes."""
    assert not any(line.startswith("handshakes") for line in legend([summary("threads", 0.2)]))
    lines = legend([summary("threads", 0.2, connections=4, handshakes=4)])
    assert any(line.startswith("handshakes") and "TLS handshakes" in line for line in lines)
