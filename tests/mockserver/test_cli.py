"""The `mock-server` command line and `launch()`: flags, errors, signals, and no orphan process."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import psutil
import pytest

from mock_server import LaunchError, launch
from mock_server.__main__ import main

# urllib would honour HTTP_PROXY; the server is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET `url`: (status, headers, body), whatever the status."""
    try:
        with OPENER.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else is already listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def start(*flags: str) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m mock_server --port 0 FLAGS`, and the line it announced itself with."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", "0", *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().decode()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--latency", "soon"], "argument --latency: bad latency 'soon'"),
        (["--latency", "3600s"], "over the cap of 60000 ms"),
        (["--jitter", "-1"], "argument --jitter: bad jitter"),
        (["--distribution", "zipf"], "argument --distribution: invalid choice: 'zipf'"),
        (["--error-rate", "2"], "argument --error-rate: bad error-rate '2'"),
        (["--rate-limit", "fast"], "argument --rate-limit: bad rate-limit"),
        (["--faults", "boom=1"], "argument --faults: bad fault 'boom=1'"),
        (["--port", "70000"], "argument --port: bad port '70000'"),
        (["--seed", "x"], "argument --seed: invalid int value"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every bad flag exits 2 with one line on stderr that names the problem, not the usage."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mock-server: ")
    assert message in err


def test_a_taken_port_is_one_line_and_exit_1(
    taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Binding a port that is in use prints one clean line (no traceback) and exits 1."""
    assert main(["--port", str(taken_port)]) == 1
    err = capsys.readouterr().err
    assert err == f"mock-server: cannot listen on http://127.0.0.1:{taken_port}: " + (
        os.strerror(errno.EADDRINUSE) + "\n"
    )


def test_an_address_that_is_not_ours_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A host this machine does not have is refused the same way."""
    assert main(["--host", "192.0.2.1", "--port", "0"]) == 1
    assert capsys.readouterr().err.startswith("mock-server: cannot listen on http://192.0.2.1:0: ")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_server_announces_itself_and_stops_cleanly_on_a_signal(signum: int) -> None:
    """It prints `listening on http://127.0.0.1:PORT`, answers there, and exits 0 on the signal."""
    process, line = start()
    try:
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        assert get(url + "/health")[0] == 200
        process.send_signal(signum)
        _, err = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert err == b""


def test_the_server_exits_when_its_stdin_closes() -> None:
    """With --exit-with-stdin it stops when whoever started it goes away."""
    process, line = start("--exit-with-stdin")
    try:
        assert line.startswith("listening on ")
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_flags_set_the_behaviour_of_every_request() -> None:
    """launch() passes its keyword arguments as flags: latency, seed, error rate and faults."""
    with launch(latency="30ms", jitter=10, distribution="normal", seed=3, error_rate=0.0) as server:
        status, headers, _ = get(server.url + "/items/1")
        assert status == 200
        assert headers["X-Injected-Latency-Ms"] != "30.000"
        assert 0 <= float(headers["X-Injected-Latency-Ms"]) <= 60_000
        assert (
            get(server.url + "/items/1?latency=0&jitter=0")[1].get("X-Injected-Latency-Ms") is None
        )
        server.reset_stats()
        assert server.stats()["requests"] == 0


def test_launch_with_rate_limit_and_faults() -> None:
    """launch(rate_limit=..., faults={...}) reaches the server: 429s and counted faults."""
    with launch(rate_limit=1, faults={"empty": 0.0}) as server:
        statuses = [get(server.url + "/items/1")[0] for _ in range(4)]
        assert statuses[0] == 200 and 429 in statuses
        status, headers, body = get(server.url + "/items/1")
        assert status == 429 and int(headers["Retry-After"]) >= 1
        assert json.loads(body)["error"] == "rate limit exceeded"


def test_uvloop_serves_the_same_api() -> None:
    """--uvloop starts the same server on uvloop."""
    pytest.importorskip("uvloop")
    with launch(uvloop=True) as server:
        assert get(server.url + "/items/1")[0] == 200
        assert server.stats()["by_status"] == {"200": 1}


def test_launch_leaves_no_process_behind_when_the_body_raises() -> None:
    """An exception in the `with` body stops the server: its pid is gone afterwards."""
    with pytest.raises(RuntimeError, match="boom"), launch() as server:
        pid = server.pid
        assert psutil.pid_exists(pid)
        raise RuntimeError("boom")
    assert not psutil.pid_exists(pid)


def test_launch_leaves_no_process_behind_on_ctrl_c() -> None:
    """A KeyboardInterrupt in the body stops the server too."""
    with pytest.raises(KeyboardInterrupt), launch() as server:
        pid = server.pid
        raise KeyboardInterrupt
    assert not psutil.pid_exists(pid)


def test_launch_says_why_a_server_could_not_start(taken_port: int) -> None:
    """A server that cannot bind raises LaunchError with its reason, and leaves no child behind."""
    children_before = {child.pid for child in psutil.Process().children()}
    with pytest.raises(LaunchError, match="cannot listen on"), launch(port=taken_port):
        pass
    assert {child.pid for child in psutil.Process().children()} <= children_before


def test_non_loopback_addresses_are_found_exposed() -> None:
    """Any address but loopback is one other machines can reach, and gets the warning."""
    from mock_server.server import exposed, exposure_warning

    hosts = ["127.0.0.1", "127.0.0.2", "::1", "0.0.0.0", "::", "192.168.1.5", "fe80::1%eth0"]
    assert exposed(hosts) == ["0.0.0.0", "::", "192.168.1.5", "fe80::1%eth0"]
    line = exposure_warning("http://0.0.0.0:8080")
    assert "0.0.0.0:8080" in line and "no authentication" in line and "\n" not in line


def test_a_loopback_server_prints_no_warning() -> None:
    """On 127.0.0.1 (the default) the server says where it listens, and nothing more."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("listening on http://127.0.0.1:")
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert "warning" not in stderr
