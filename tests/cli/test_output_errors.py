"""`fetcher fetch` when its output fails: refused up front, stopped mid-run, or a closed pipe."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fetcher.strategies import STRATEGIES
from mock_server import MockServer
from tests.conftest import ALL_STRATEGIES, FETCHER, WAIT_S, run_fetcher


def url_file(tmp_path: Path, server: MockServer, count: int, query: str = "") -> Path:
    """A URL file of `count` URLs on the server."""
    path = tmp_path / "urls.txt"
    path.write_text("".join(server.url_for(f"/items/{i}{query}\n") for i in range(count)))
    return path


def test_an_output_that_cannot_be_opened_is_refused_before_any_request(
    fresh_server: MockServer, tmp_path: Path
) -> None:
    """--out into a missing folder: one line naming it, exit 2, and the server saw nothing."""
    urls = url_file(tmp_path, fresh_server, 5)
    done = run_fetcher("fetch", str(urls), "--out", str(tmp_path / "missing/dir/x.jsonl"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"fetcher fetch: error: cannot open {tmp_path}/missing/dir/x.jsonl for the results: "
        "No such file or directory"
    ]
    assert fresh_server.stats()["requests"] == 0


def test_a_resume_file_that_cannot_be_written_is_refused_before_any_request(
    fresh_server: MockServer, tmp_path: Path
) -> None:
    """--resume naming a folder: one line, exit 2, no request."""
    urls = url_file(tmp_path, fresh_server, 5)
    done = run_fetcher("fetch", str(urls), "--resume", str(tmp_path))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert fresh_server.stats()["requests"] == 0


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_full_disk_stops_the_run_with_one_line_and_exit_1(
    fresh_server: MockServer, tmp_path: Path, strategy: str
) -> None:
    """/dev/full fails every write (ENOSPC): the run stops early, one line names the file and
    how many results were written."""
    count = 200
    urls = url_file(tmp_path, fresh_server, count, "?latency=20ms")
    argv = ["fetch", str(urls), "--out", "/dev/full", "--quiet", "--concurrency", "2"]
    argv += ["--strategy", strategy, "--processes", "2"]
    done = run_fetcher(*argv)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "fetcher fetch: error: cannot write results to /dev/full: No space left on device "
        "(0 results written)"
    ]
    if not STRATEGIES[strategy].cluster:  # a cluster's chunks are all under way from the start
        assert fresh_server.stats()["requests"] < count  # it stopped, rather than fetch on


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_closed_stdout_pipe_ends_the_run_quietly(
    fresh_server: MockServer, tmp_path: Path, strategy: str
) -> None:
    """`fetcher fetch urls | head -1`: no BrokenPipeError traceback, no message, exit 141."""
    count = 300
    urls = url_file(tmp_path, fresh_server, count, "?latency=10ms")
    process = subprocess.Popen(
        [*FETCHER, "fetch", str(urls), "--quiet", "--concurrency", "2", "--strategy", strategy],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # what `head -1` does once it has its line
        stderr = process.stderr.read()
        process.wait(timeout=WAIT_S)
    finally:
        process.kill()
        process.wait()
    assert first.startswith('{"index":')
    if STRATEGIES[strategy].cluster and process.returncode == 0:
        # Its chunks are all under way from the start and their lines come in a few large
        # writes: when the last of them fits in the pipe before the reader goes, nothing fails
        # and the run ends as usual, as `seq 300 | head -1` does.
        [summary] = stderr.splitlines()  # the usual summary line, and nothing else
        assert summary.startswith(f"{count} results in ")
    else:
        assert process.returncode == 141
        assert stderr == ""
    if not STRATEGIES[strategy].cluster:  # a cluster's chunks are all under way from the start
        assert fresh_server.stats()["requests"] < count


@pytest.mark.parametrize(
    "argv",
    [
        ["gil", "--count", "100000"],
        ["compare", "--count", "10", "--latency", "5ms", "--strategies", "sequential,threads"],
        ["load", "-n", "200"],
    ],
    ids=["gil", "compare", "load"],
)
def test_every_command_ends_quietly_with_141_when_stdout_is_gone(argv: list[str]) -> None:
    """`fetcher gil | head -1` and the like, with the reader gone before the first line: no
    traceback, no message, exit 141 (rich's own handling would exit 1, as a failed run)."""
    process = subprocess.Popen(
        [*FETCHER, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader goes away before anything is written
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr
