"""The comparison table: rows on a wide screen, a column per strategy on a narrow one."""

from __future__ import annotations

from fetcher.render.compare import comparison_table
from tests.conftest import summary


def test_the_table_turns_a_column_per_strategy_when_narrow() -> None:
    """At 80 columns strategies become columns, so no figure is cut; wide screens get rows."""
    runs = [summary(name, 1.0) for name in ("sequential", "threads", "asyncio-aiohttp")]
    wide = comparison_table(runs, "t", width=200)
    assert [c.header for c in wide.columns][:2] == ["strategy", "wall s"]
    assert wide.row_count == 3
    tall = comparison_table(runs, "t", width=80)
    assert [c.header for c in tall.columns] == ["", "sequential", "threads", "asyncio-\naiohttp"]
    assert tall.row_count == len(tall.columns[0]._cells) >= 14
