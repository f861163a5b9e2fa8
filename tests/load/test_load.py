"""`fetcher load`: both models, merging, late starts, the JSON schema, a stall, and Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from fetcher.load import LoadConfig, run_load
from fetcher.load.csv_rows import keep_csv
from fetcher.load.generator import machine_busy
from fetcher.load.report import to_json
from fetcher.load.results import GeneratorResult, merge, new_histogram
from mock_server import MockServer
from tests.conftest import FETCHER, assert_all_gone, family, run_fetcher, start, wait_until

LATENCY_KEYS = {"min", "mean", "p50", "p90", "p99", "p99.9", "max"}
# The load tests every client must pass: the fast one (the default) and aiohttp's.
CLIENTS = pytest.mark.parametrize("client", ["fast", "aiohttp"])


def items(server: MockServer, count: int = 10, query: str = "") -> tuple[str, ...]:
    """URLs of `count` items on `server`."""
    return tuple(server.url_for(f"/items/{i}{query}") for i in range(count))


def load_cli(tmp_path: Path, *flags: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """`fetcher load FLAGS` as a user runs it, which must succeed: what it printed, and its
    JSON report."""
    report = tmp_path / "report.json"
    done = run_fetcher("load", *flags, "--json", str(report))
    assert done.returncode == 0, done.stderr
    return done, json.loads(report.read_text())


@CLIENTS
def test_closed_model_sends_the_count_on_at_most_c_connections(
    fresh_server: MockServer, client: str
) -> None:
    """The closed model sends exactly N requests, never more than C at once as the server saw."""
    config = LoadConfig(urls=items(fresh_server), concurrency=4, requests=200, client=client)
    result = run_load(config)
    stats = fresh_server.stats()
    assert result.requests == 200
    assert result.status == {200: 200}
    assert result.latency.get_total_count() == 200
    assert result.unfinished == 0
    assert stats["requests"] == 200
    assert 1 <= stats["peak_in_flight"] <= 4


@CLIENTS
def test_open_model_records_corrected_and_uncorrected_latency(
    server: MockServer, client: str
) -> None:
    """The open model measures every request twice, and its schedule spans N/R seconds."""
    result = run_load(LoadConfig(urls=items(server), rate=200, requests=100, client=client))
    assert result.requests == 100
    assert result.latency.get_total_count() == 100
    assert result.uncorrected.get_total_count() == 100
    # Request 99 is due 0.495 s after the first, so the run cannot be shorter.
    assert result.duration_s >= 99 / 200
    assert result.latency.get_max_value() >= result.uncorrected.get_min_value()


def test_duration_bounds_a_run(server: MockServer) -> None:
    """A run bounded by duration alone stops by itself and counts what it sent."""
    result = run_load(LoadConfig(urls=items(server), concurrency=2, duration_s=0.5))
    assert result.requests > 0
    assert 0.5 <= result.duration_s < 0.5 + 2.0 + 1.0


def test_merge_adds_histograms_and_counts() -> None:
    """Merged parts hold the sum of their histograms' counts, statuses and errors."""
    parts = [_part(values, status) for values, status in (([1000, 2000], 200), ([3000] * 5, 503))]
    merged = merge(LoadConfig(urls=("http://127.0.0.1:1/",)), parts)
    assert merged.latency.get_total_count() == 7
    assert merged.requests == 7
    assert merged.status == {200: 2, 503: 5}
    assert merged.per_process == (2, 5)
    assert merged.latency.get_max_value() == pytest.approx(3000, rel=0.001)


def _part(values: list[int], status: int) -> GeneratorResult:
    """A generator's result holding `values` (µs), all answered `status`."""
    hist = new_histogram()
    for value in values:
        hist.record_value(value)
    encoded = hist.encode()
    return GeneratorResult(
        requests=len(values),
        unfinished=0,
        elapsed_s=1.0,
        nbytes=0,
        late_starts=0,
        status={status: len(values)},
        errors={},
        latency=encoded,
        uncorrected=encoded,
        start_lag=new_histogram().encode(),
        interrupted=False,
    )


def test_processes_merge_into_one_histogram(fresh_server: MockServer) -> None:
    """With two processes the merged histogram counts every request each process sent."""
    config = LoadConfig(urls=items(fresh_server), concurrency=4, requests=300, processes=2)
    result = run_load(config)
    assert result.per_process == (150, 150)
    assert result.latency.get_total_count() == sum(result.per_process) == 300
    assert fresh_server.stats()["requests"] == 300


@CLIENTS
def test_late_starts_counted_when_workers_are_all_busy(server: MockServer, client: str) -> None:
    """One worker for 50 ms requests due every 10 ms: every request after the first starts late."""
    urls = items(server, query="?latency=50ms")
    config = LoadConfig(urls=urls, rate=100, concurrency=1, requests=20, client=client)
    result = run_load(config)
    assert result.late_starts >= 17
    assert result.latency.get_value_at_percentile(90) > result.uncorrected.get_value_at_percentile(
        90
    )


def test_few_late_starts_when_the_generator_keeps_up(server: MockServer) -> None:
    """At an easy rate with room to spare, requests mostly start on time."""
    result = run_load(LoadConfig(urls=items(server), rate=50, requests=25))
    assert result.late_starts < 25 // 2


def test_json_report_has_the_documented_keys(server: MockServer, tmp_path: Path) -> None:
    """The JSON of both models carries every documented key, latency objects included."""
    closed = to_json(run_load(LoadConfig(urls=items(server), requests=20)))
    opened = to_json(run_load(LoadConfig(urls=items(server), rate=100, requests=20)))
    for data in (closed, opened):
        assert {"model", "requests", "duration_s", "requests_per_s", "status", "errors"} <= set(
            data
        )
        assert data["responses"] == 20
        assert set(data["latency_ms"]) >= LATENCY_KEYS
    assert closed["model"] == "closed" and opened["model"] == "open"
    assert {"target_rate", "late_starts", "latency_uncorrected_ms"} <= set(opened)
    assert set(opened["latency_uncorrected_ms"]) >= LATENCY_KEYS
    assert "target_rate" not in closed
    # The verdict: whether the asked rate was reached, and what limited the run.
    assert isinstance(opened["target_reached"], bool) and opened["limited_by"]
    assert "target_reached" not in closed and closed["limited_by"] in ("target", "generator_cpu")
    for data in (closed, opened):
        assert data["sent"] == 20 and data["sending_s"] <= data["duration_s"]
        assert sum(point["responses"] for point in data["series"]) == 20
    json.dumps(opened)


def test_the_machine_busy_share_sees_every_core_spinning(server: MockServer) -> None:
    """machine_busy over real cpu_times: nearly 1 while a process spins on every core (what the
    machine verdict looks for); a run's report carries its own, which holds at least the
    generator's share of the cores."""
    spin = "print('go', flush=True)\nwhile True: pass"
    spinners = [
        subprocess.Popen([sys.executable, "-c", spin], stdout=subprocess.PIPE, text=True)
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        for spinner in spinners:
            assert spinner.stdout is not None and spinner.stdout.readline() == "go\n"
        before = psutil.cpu_times()
        time.sleep(0.6)  # the window measured, while every spinner runs
        busy = machine_busy(before, psutil.cpu_times())
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.communicate()
    assert busy is not None and busy >= 0.9
    data = to_json(run_load(LoadConfig(urls=items(server), duration_s=1.0)))
    assert data["machine_busy"] * (os.cpu_count() or 1) >= 0.8 * data["generator_cpu"]


def test_the_rate_is_over_the_sending_window_and_the_drain_is_shown_apart(
    server: MockServer,
) -> None:
    """A 1 s run of 300 ms requests: the rate counts the 1 s it sent in, not the drain after."""
    urls = tuple(server.url_for(f"/items/{i}?latency=300ms") for i in range(10))
    data = to_json(run_load(LoadConfig(urls=urls, concurrency=4, duration_s=1.0)))
    assert 1.0 <= data["sending_s"] < 1.3
    assert data["drain_s"] > 0.05  # the last requests still had their 300 ms to run
    assert data["unfinished"] == 0 and data["requests"] == data["sent"]


def test_a_timeout_of_zero_is_refused_in_one_line() -> None:
    """--timeout 0s would time out every request before it went out, and the verdict would
    blame the target: it is refused before the run, as -z 0s is."""
    done = run_fetcher("load", "--timeout", "0s", "-n", "5", "http://127.0.0.1:9/")
    assert done.returncode == 2
    assert done.stderr.strip() == "fetcher load: error: timeout must be > 0 s, got 0.0"


def test_csv_has_one_row_per_request(server: MockServer, tmp_path: Path) -> None:
    """--csv writes a header and one row per request, and removes its part files; a 4xx or
    5xx answer's row names it an error, as the report counts it."""
    import csv

    path = str(tmp_path / "rows.csv")
    urls = (*items(server, 2), server.url_for("/status/503"))
    result = run_load(LoadConfig(urls=urls, rate=200, requests=30, csv_path=path))
    assert keep_csv(result.csv_parts, path, result.csv_failure) is None
    with open(path, newline="", encoding="utf-8") as rows:
        table = list(csv.DictReader(rows))
    assert len(table) == 30 and list(table[0])[:3] == ["index", "url", "due_ms"]
    assert {(row["status"], row["error"]) for row in table} == {("200", ""), ("503", "http_status")}
    assert list(tmp_path.iterdir()) == [tmp_path / "rows.csv"]


@CLIENTS
def test_corrected_p99_shows_a_stall_the_uncorrected_hides(server: MockServer, client: str) -> None:
    """1% of requests stall 2 s and hold the 3 connections: only the corrected p99 shows it."""
    urls = (*items(server, count=99), server.url_for("/items/99?latency=2s"))
    config = LoadConfig(urls=urls, rate=400, concurrency=3, requests=400, client=client)
    result = run_load(config)
    corrected_p99_ms = result.latency.get_value_at_percentile(99) / 1000
    uncorrected_p99_ms = result.uncorrected.get_value_at_percentile(99) / 1000
    assert result.requests == 400
    assert result.uncorrected.get_max_value() / 1000 >= 2000
    assert corrected_p99_ms >= 1000
    assert uncorrected_p99_ms < 500


@CLIENTS
def test_a_dead_target_shows_its_errors_no_latency_and_exits_1(tmp_path: Path, client: str) -> None:
    """When nothing answers, the report names the errors, shows no table of zeros, exits 1."""
    report = tmp_path / "report.json"
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))  # bound but never listening: every connect is refused
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/"
        done = run_fetcher(
            "load",
            url,
            "-n",
            "20",
            "--client",
            client,
            "--json",
            str(report),
            timeout_s=60,
        )
    assert done.returncode == 1, done.stderr
    assert "no request got a response (20 connection_refused)" in done.stderr
    assert "responses  0 (0.00% of sent)" in done.stdout
    assert "latency (ms)" not in done.stdout
    data = json.loads(report.read_text())
    assert data["responses"] == 0
    assert data["errors"] == {"connection_refused": 20}


def test_requests_left_hanging_lower_the_share_of_responses(tmp_path: Path) -> None:
    """Every connection hung (the bundled server's hang fault) and the drain gave up on them:
    the responses are a share of what was sent, so the report cannot read 100%."""
    flags = ("-c", "2", "-z", "0.3s", "--faults", "hang=0.2", "--seed", "1")
    done, data = load_cli(tmp_path, *flags)
    assert data["unfinished"] == 2 and data["responses"] == data["sent"] - 2
    shown = re.search(r"^responses +[\d,]+ \(([\d.]+)% of sent\)", done.stdout, re.M)
    assert shown is not None and float(shown.group(1)) < 100, done.stdout


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
@pytest.mark.parametrize("processes", [1, 2])
def test_a_stop_signal_prints_the_report_and_exits_128_plus_it(
    tmp_path: Path, processes: int, signum: signal.Signals, code: int
) -> None:
    """Ctrl-C, SIGTERM or SIGHUP stops a long run, prints its report and exits 128+N, leaving
    no generator process behind."""
    report = tmp_path / "report.json"
    process = start([*FETCHER, "load", "-z", "60s", "-p", str(processes), "--json", str(report)])
    try:
        _wait_for_requests(process)
        children = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == code, stderr
    assert_all_gone(children)
    assert "requests" in stdout and f"(interrupted by {signum.name})" in stdout
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["stopped_by"] == signum.name
    assert data["requests"] > 0


def test_the_open_model_report_says_what_corrected_latency_counts(server: MockServer) -> None:
    """The report a reader sees: the start lag beside the late starts, what corrected and
    uncorrected latency count from, and which of them the histogram shows."""
    done = run_fetcher("load", "-r", "200", "-n", "40", server.url_for("/items/1"))
    assert done.returncode == 0, done.stderr
    assert "1 process, at most 2,000 in flight (-c)" in done.stdout  # the cap, not a pool
    assert "start lag p50 " in done.stdout
    assert "(from a request's due time to its sending: the corrected latency includes it" in (
        done.stdout
    )
    assert "corrected: from when each request was due" in done.stdout
    assert "uncorrected: from when it was sent" in done.stdout
    assert "corrected latency histogram (ms, upper edge)" in done.stdout


# A program that calls run_load for a minute, saying when its first progress arrives.
CALLS_RUN_LOAD = """\
import sys
from fetcher.load import LoadConfig, run_load

def on_progress(progress):
    if progress.requests:
        print("running", flush=True)

config = LoadConfig(urls=(sys.argv[1],), duration_s=60, processes=int(sys.argv[2]))
result = run_load(config, on_progress)
print("returned", result.interrupted, flush=True)
"""


@pytest.mark.parametrize("processes", [1, 2])
def test_a_program_calling_run_load_still_ends_on_its_sigterm(
    server: MockServer, processes: int
) -> None:
    """SIGTERM at its default action in the calling program: run_load stops its generators,
    then the signal ends the program as it would have without the run (it was swallowed, and
    the program ran on: a test suite under `timeout` did not stop)."""
    url = server.url_for("/items/1")
    process = start([sys.executable, "-c", CALLS_RUN_LOAD, url, str(processes)])
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "running\n"
        started = family(process)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == -signal.SIGTERM, stdout + stderr
    assert "returned" not in stdout
    assert_all_gone(started)


def _wait_for_requests(process: subprocess.Popen[str]) -> None:
    """Wait until the bundled server, named on the first line of stderr, has seen requests."""
    assert process.stderr is not None
    announcement = process.stderr.readline()
    server = MockServer(url=announcement.split(" @ ")[1].split("/items/")[0], pid=0)

    def sending() -> bool:
        assert process.poll() is None, "fetcher load ended early"
        return int(server.stats()["requests"]) > 0

    wait_until(sending, "fetcher load's first requests")


@CLIENTS
@pytest.mark.parametrize("model", ["closed", "open"])
def test_statuses_are_counted_and_4xx_5xx_are_errors(
    server: MockServer, client: str, model: str
) -> None:
    """Every answer is counted by status, bodies by their bytes; 4xx and 5xx are also errors."""
    urls = (server.url_for("/status/503"), server.url_for("/bytes/5000"), server.url_for("/nope"))
    rate = None if model == "closed" else 300.0
    result = run_load(LoadConfig(urls=urls, rate=rate, concurrency=3, requests=30, client=client))
    assert result.status == {200: 10, 404: 10, 503: 10}
    assert result.errors == {"http_status": 20}
    assert result.nbytes >= 10 * 5000


FAULTS = [
    ("reset", "connection_reset"),
    ("empty", "disconnected"),
    ("malformed", "invalid_response"),
    ("hang", "timeout"),
]


@CLIENTS
@pytest.mark.parametrize(("fault", "kind"), FAULTS)
def test_faults_are_classified_the_same_by_every_client(
    server: MockServer, client: str, fault: str, kind: str
) -> None:
    """A reset, an empty answer, a malformed one and a hang are each counted as their kind."""
    urls = (server.url_for(f"/items/1?faults={fault}=1"),)
    config = LoadConfig(urls=urls, concurrency=2, requests=6, timeout_s=0.3, client=client)
    result = run_load(config)
    assert result.errors == {kind: 6}
    assert result.status == {}
    assert result.requests == 6 and result.unfinished == 0


@CLIENTS
def test_chunked_bodies_are_counted_whole(server: MockServer, client: str) -> None:
    """A body sent in chunks (no Content-Length) counts all its bytes on kept-alive connections."""
    urls = (server.url_for("/drip?numbytes=1000&duration=0&chunks=5"),)
    result = run_load(LoadConfig(urls=urls, concurrency=2, requests=10, client=client))
    assert result.status == {200: 10}
    assert result.nbytes == 10 * 1000


def test_the_bundled_servers_view_counts_connections_and_says_what_its_peak_counts(
    tmp_path: Path,
) -> None:
    """On the bundled server (no target), the server's view shows the connections it saw (the
    client's 64) and says why its peak is 1 beside them: its handler answers at once."""
    done, data = load_cli(tmp_path, "-n", "300")
    server = data["server"]
    assert server["connections"] == 64 and server["peak_in_flight"] == 1
    assert re.search(r"connections used\s*│\s*64\s*│", done.stdout)
    assert re.search(r"peak in its handlers\s*│\s*1\s*│", done.stdout)
    words = " ".join(done.stdout.split())
    assert "one still waiting in its socket or event loop is not counted" in words
    # The two rates differ by the drain: their times are shown to the millisecond to say so.
    for line in ("sent", "requests"):
        assert re.search(rf"^{line} +[\d,]+\D+\d+\.\d{{3}} s = [\d,.]+/s", done.stdout, re.M)


@pytest.mark.parametrize(("processes", "connections"), [(1, 16), (3, 18)])
def test_a_pipelined_run_says_how_many_connections_carried_it(
    tmp_path: Path, processes: int, connections: int
) -> None:
    """-c 64 --pipeline 4 is 16 connections with 64 requests in flight; over 3 processes, each
    rounding its share up (22, 21, 21 requests), 18. The announcement and the report say so,
    and the bundled server counts as many itself."""
    flags = ("-c", "64", "--pipeline", "4", "-p", str(processes), "-n", "600")
    done, data = load_cli(tmp_path, *flags)
    assert f"{connections} connections, 4 requests pipelined on each connection" in done.stderr
    assert f"{connections} connections (64 in flight, -c)" in done.stdout
    assert data["connections"] == connections == data["server"]["connections"]


def test_the_report_names_the_event_loop_that_ran(server: MockServer) -> None:
    """uvloop when it is installed and wanted, asyncio's own loop when --no-uvloop says so."""
    import importlib.util

    wanted = to_json(run_load(LoadConfig(urls=items(server), requests=5)))
    refused = to_json(run_load(LoadConfig(urls=items(server), requests=5, use_uvloop=False)))
    assert wanted["loop"] == ("uvloop" if importlib.util.find_spec("uvloop") else "asyncio")
    assert refused["loop"] == "asyncio"
    assert wanted["pipeline"] == 1 and wanted["client"] == "fast"


@CLIENTS
def test_a_csv_that_cannot_be_written_stops_the_run_with_one_line(
    server: MockServer, tmp_path: Path, client: str
) -> None:
    """Files capped at 256 KB (as a full disk would, without root): the first batch of rows
    fails, the run stops, its report is still printed whole, one line says why there is no
    CSV, and no part or torn file is left."""

    def cap_files() -> None:  # in the child, before it runs: EFBIG instead of SIGXFSZ
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    path = tmp_path / "rows.csv"
    url = server.url_for("/items/1")
    argv = [*FETCHER, "load", url, "-n", "50000", "-c", "8", "--client", client, "--csv", str(path)]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, preexec_fn=cap_files, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"fetcher load: error: cannot write {path}.part0: File too large; the run stopped "
        "there; no CSV was kept (the report is whole)"
    )
    sent = re.search(r"requests +([\d,]+) done", done.stdout)
    assert sent is not None, done.stdout
    assert 0 < int(sent[1].replace(",", "")) < 50_000  # it stopped, rather than load on
    assert list(tmp_path.iterdir()) == []
