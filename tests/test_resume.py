"""The resume index on its own: a bitmap of done indices, and what a results file says."""

from __future__ import annotations

import json
from pathlib import Path

from fetcher.resume import DoneSet, repair, scan


def test_done_set_counts_and_forgets_indices() -> None:
    """Indices are added once, discarded, and nothing outside the range is ever in the set."""
    done = DoneSet(20)
    for index in (0, 7, 8, 19, 7):
        done.add(index)
    done.discard(8)
    assert [i for i in range(-2, 25) if i in done] == [0, 7, 19]
    assert len(done) == 3


def test_scan_keeps_matching_successes_and_locates_bad_lines(tmp_path: Path) -> None:
    """OK records whose URL matches count; failures, other URLs and garbage do not, and the
    garbage and a torn last line are located by line number; repair leaves whole lines only."""
    urls = [f"http://127.0.0.1:1/{i}" for i in range(5)]
    rows = [
        {"index": 0, "url": urls[0], "error": None},
        {"index": 1, "url": urls[1], "error": "read_timeout"},
        {"index": 2, "url": "http://127.0.0.1:1/other", "error": None},
        {"index": 99, "url": urls[3], "error": None},
    ]
    text = "\n".join(json.dumps(row) for row in rows) + "\nnot json\n"
    text += json.dumps({"index": 4, "url": urls[4], "error": None}) + '\n{"index": 3, "ur'
    path = tmp_path / "r.jsonl"
    path.write_text(text)
    found = scan(path, urls, len(urls))
    assert [i for i in range(5) if i in found.done] == [0, 4]
    assert found.unreadable == [5] and found.torn_line == 7
    repair(path, found)
    assert path.read_text() == text[: text.rindex("\n") + 1]  # only the torn line went
