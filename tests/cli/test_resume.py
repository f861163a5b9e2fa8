"""`fetcher fetch --resume FILE`, run for real: fetched URLs are skipped, the rest appended."""

from __future__ import annotations

import json
from pathlib import Path

from fetcher.resume import finished
from mock_server import MockServer
from tests.conftest import run_fetcher


def record(index: int, url: str, error: str | None) -> str:
    """One results line as `fetcher fetch` writes it."""
    fields = {"index": index, "url": url, "status": 200, "nbytes": 1, "started_ms": 0.0}
    fields |= {"elapsed_ms": 1.0, "worker": "w", "error": error, "detail": None, "attempts": 1}
    return json.dumps(fields)


def test_resume_fetches_only_what_is_missing_or_failed(
    fresh_server: MockServer, tmp_path: Path
) -> None:
    """Done URLs are not requested again; failed and missing ones are, and appended once each."""
    urls = [fresh_server.url_for(f"/items/{i}") for i in range(10)]
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
    results = tmp_path / "results.jsonl"
    earlier = [record(i, urls[i], None) for i in range(4)] + [record(4, urls[4], "read_timeout")]
    # The last line was cut short by a kill: it is dropped, said so, and its URL fetched again.
    results.write_text("\n".join(earlier) + "\n" + record(5, urls[5], None)[:30])
    done = run_fetcher(
        "fetch",
        str(tmp_path / "urls.txt"),
        "--quiet",
        "--resume",
        str(results),
        "--strategy",
        "threads",
    )
    assert done.returncode == 0, done.stderr
    assert f"{results}:6: the last line was cut short" in done.stderr
    assert fresh_server.stats()["requests"] == 6
    lines = [json.loads(line) for line in results.read_text().splitlines()]  # every line parses
    assert sorted(r["index"] for r in lines[5:]) == [4, 5, 6, 7, 8, 9]
    ok = sorted(r["index"] for r in lines if r["error"] is None)
    assert ok == list(range(10))  # one OK line per URL
    assert finished(results, urls) == set(range(10))


def test_resume_of_a_missing_file_fetches_everything(server: MockServer, tmp_path: Path) -> None:
    """A results file that does not exist yet means nothing is done: every URL is fetched."""
    urls = [server.url_for(f"/items/{i}") for i in range(3)]
    (tmp_path / "urls.txt").write_text("\n".join(urls))
    results = tmp_path / "new.jsonl"
    done = run_fetcher("fetch", str(tmp_path / "urls.txt"), "--quiet", "--resume", str(results))
    assert done.returncode == 0, done.stderr
    assert finished(results, urls) == {0, 1, 2}


def test_finished_ignores_records_of_another_url_list(tmp_path: Path) -> None:
    """A record counts only when its index and URL both match the list being resumed."""
    results = tmp_path / "r.jsonl"
    results.write_text(record(0, "http://127.0.0.1:1/a", None) + "\nnot json\n[1]\n")
    assert finished(results, ["http://127.0.0.1:1/b"]) == set()
    assert finished(results, ["http://127.0.0.1:1/a"]) == {0}


def test_unreadable_lines_are_reported_with_file_and_line(
    server: MockServer, tmp_path: Path
) -> None:
    """A line in the middle that is not JSON is ignored and named file:line, not silently."""
    urls = [server.url_for(f"/items/{i}") for i in range(3)]
    (tmp_path / "urls.txt").write_text("\n".join(urls))
    results = tmp_path / "r.jsonl"
    results.write_text(record(0, urls[0], None) + "\n{garbage\n" + record(1, urls[1], None) + "\n")
    done = run_fetcher("fetch", str(tmp_path / "urls.txt"), "--quiet", "--resume", str(results))
    assert done.returncode == 0, done.stderr
    assert "1 unreadable line(s) ignored" in done.stderr and f"{results}:2" in done.stderr
    assert finished(results, urls) == {0, 1, 2}


def test_a_whole_last_record_without_newline_is_kept(server: MockServer, tmp_path: Path) -> None:
    """A last line that parses but lacks its newline counts as done and gets its newline."""
    urls = [server.url_for(f"/items/{i}") for i in range(2)]
    (tmp_path / "urls.txt").write_text("\n".join(urls))
    results = tmp_path / "r.jsonl"
    results.write_text(record(0, urls[0], None))
    done = run_fetcher("fetch", str(tmp_path / "urls.txt"), "--quiet", "--resume", str(results))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["index"] for r in lines] == [0, 1]
