"""`fetcher fetch` run for real: a JSON line per result; bad input refused before any request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_server import MockServer
from tests.conftest import closed_port, run_fetcher

FETCH_KEYS = {"index", "url", "status", "nbytes", "started_ms", "elapsed_ms", "worker", "error"}


def test_fetch_streams_one_json_line_per_result(tmp_path: Path, server: MockServer) -> None:
    """fetch writes every result as a JSON line with the documented keys, failures included."""
    urls = [server.url_for("/items/1"), server.url_for("/status/503"), "http://127.0.0.1:1/"]
    out = tmp_path / "results.jsonl"
    done = run_fetcher(
        "fetch", "-", "--strategy", "threads", "--out", str(out), stdin="\n".join(urls)
    )
    assert done.returncode == 1, done.stderr  # some failed: every result still written
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["index"] for line in lines) == [0, 1, 2]
    assert all(set(line) >= FETCH_KEYS for line in lines)
    by_index = {line["index"]: line for line in lines}
    assert by_index[0]["error"] is None and by_index[0]["status"] == 200
    assert (by_index[1]["error"], by_index[1]["status"]) == ("http_status", 503)
    assert by_index[2]["error"] == "connection_refused"
    assert "3 results" in done.stderr and "1 ok, 2 failed" in done.stderr


def test_the_summary_is_one_line_in_a_log(tmp_path: Path, server: MockServer) -> None:
    """Over 80 columns, the summary still comes out on one line when stderr is a pipe (rich
    wrapped it at 80 there, leaving 'on asyncio' on a line of its own)."""
    urls = [server.url_for("/status/404"), server.url_for("/status/503"), "http://127.0.0.1:1/"]
    done = run_fetcher(
        "fetch", "-", "--attempts", "1", "--out", str(tmp_path / "out.jsonl"), stdin="\n".join(urls)
    )
    summary = [line for line in done.stderr.splitlines() if " results in " in line]
    assert len(summary) == 1 and len(summary[0]) > 80, done.stderr
    assert summary[0].endswith(("on asyncio", "on uvloop")), done.stderr


def test_the_summary_counts_the_retries_in_its_time(tmp_path: Path, server: MockServer) -> None:
    """A refused URL tried three times and one answered first time: the summary says one result
    was retried, with two more attempts, whose waits are in its time."""
    urls = [server.url_for("/items/1"), f"http://127.0.0.1:{closed_port()}/"]
    done = run_fetcher(
        "fetch",
        "-",
        "--attempts",
        "3",
        "--backoff",
        "10ms",
        "--out",
        str(tmp_path / "o.jsonl"),
        stdin="\n".join(urls),
    )
    assert done.returncode == 1, done.stderr
    assert "; 1 retried (2 more attempts, with their backoff and Retry-After waits)" in done.stderr


def test_fetch_stops_at_a_bad_line_before_any_request(
    tmp_path: Path, fresh_server: MockServer
) -> None:
    """A bad third line stops the run with its line number, and the server saw nothing."""
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{fresh_server.url_for('/items/1')}\n\nnot a url\n")
    done = run_fetcher("fetch", str(urls))
    assert done.returncode == 2
    assert f"{urls}:3: " in done.stderr
    assert fresh_server.stats()["requests"] == 0


def test_fetch_exit_status_says_whether_every_url_succeeded(
    tmp_path: Path, server: MockServer
) -> None:
    """0 when every URL got a response, 1 when none could (with every failure still written)."""
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("".join(server.url_for(f"/items/{i}\n") for i in range(4)))
    port = closed_port()
    bad.write_text("".join(f"http://127.0.0.1:{port}/{i}\n" for i in range(4)))
    assert run_fetcher("fetch", str(good), "--out", str(tmp_path / "good.jsonl")).returncode == 0
    done = run_fetcher("fetch", str(bad), "--attempts", "1", "--out", str(tmp_path / "bad.jsonl"))
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "bad.jsonl").read_text().splitlines()]
    assert sorted(line["index"] for line in lines) == [0, 1, 2, 3]
    assert {line["error"] for line in lines} == {"connection_refused"}
    assert "fetch: some URL failed" in run_fetcher("fetch", "--help").stdout


def test_a_result_orjson_refuses_is_still_written_as_json() -> None:
    """An exception's text may hold a lone surrogate (bytes decoded with surrogateescape), which
    orjson refuses as not UTF-8: the line is still written, escaped, and reads back whole."""
    from fetcher.cli.output import json_line
    from fetcher.models import ErrorKind, FetchResult

    result = FetchResult(
        index=7,
        url="http://127.0.0.1:1/é",
        status=None,
        nbytes=0,
        started_s=0.001,
        ended_s=0.002,
        worker="task-0",
        error=ErrorKind.CONNECTION_REFUSED,
        detail="OSError: bad name b'\udcff'",
    )
    line = json_line(result)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = json.loads(line)
    assert record["detail"] == "OSError: bad name b'\udcff'"
    assert record["url"] == "http://127.0.0.1:1/é"
    assert record["index"] == 7 and record["error"] == "connection_refused"


def test_an_interrupt_while_a_batch_is_encoded_loses_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or SIGTERM, raised as an exception) landing while a batch is encoded leaves the
    batch for close() to write: every result the writer took is in the file, once, in order."""
    from fetcher.cli import output
    from fetcher.models import FetchResult

    monkeypatch.setattr(output, "FLUSH_S", 60.0)  # only the fetching thread writes here
    encode, calls = output.json_line, 0

    def interrupted_once(result: FetchResult) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 50:
            raise KeyboardInterrupt
        return encode(result)

    monkeypatch.setattr(output, "json_line", interrupted_once)
    path = tmp_path / "results.jsonl"
    writer = output.ResultsWriter(*output.open_results(str(path)))
    results = [
        FetchResult(
            index=i,
            url=f"http://127.0.0.1:1/items/{i}",
            status=200,
            nbytes=2,
            started_s=0.0,
            ended_s=0.001,
            worker="main",
        )
        for i in range(output.FLUSH_LINES)
    ]
    with pytest.raises(KeyboardInterrupt):
        for result in results:
            writer.add(result)
    writer.close()
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["index"] for line in lines] == list(range(output.FLUSH_LINES))
