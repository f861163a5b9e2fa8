"""The fast load client's own promises: keep-alive, Connection: close, bodies that end at EOF,
redirects not followed, pipelining, and its request bytes."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from fetcher.load import LoadConfig, run_load
from fetcher.load.driven import drivable
from fetcher.load.fast import Target
from mock_server import MockServer, launch

CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
UNTIL_EOF = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 3000


class _Server:
    """A socketserver on 127.0.0.1 in a thread, with `handler`; shut down on exit."""

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> _Server:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _read_heads(sock: socket.socket, data: bytes, count: int = 1) -> bytes | None:
    """Read until `data` holds `count` request heads: all that came, or None if the client
    closed first."""
    while data.count(b"\r\n\r\n") < count:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


class _Answer(socketserver.BaseRequestHandler):
    """Read one request, send the server's fixed answer, close: a server that never keeps alive."""

    def handle(self) -> None:
        if _read_heads(self.request, b"") is None:
            return
        self.server.connections += 1  # type: ignore[attr-defined]
        self.request.sendall(self.server.answer)  # type: ignore[attr-defined]
        self.request.shutdown(socket.SHUT_WR)


@pytest.fixture(params=[CLOSE, UNTIL_EOF], ids=["connection-close", "body-until-eof"])
def closing_server(request: pytest.FixtureRequest) -> Iterator[socketserver.ThreadingTCPServer]:
    """A server on 127.0.0.1 that answers each connection's first request, then closes it."""
    with _Server(_Answer) as running:
        running.server.answer = request.param  # type: ignore[attr-defined]
        running.server.connections = 0  # type: ignore[attr-defined]
        yield running.server


def test_a_closed_connection_is_replaced_and_every_answer_counted(
    closing_server: socketserver.ThreadingTCPServer,
) -> None:
    """`Connection: close` (or HTTP/1.0's body that ends with the connection) costs one
    connection per request, and every answer is still counted whole, with no error."""
    port = closing_server.server_address[1]
    answer: bytes = closing_server.answer  # type: ignore[attr-defined]
    body_bytes = len(answer.partition(b"\r\n\r\n")[2])
    config = LoadConfig(urls=(f"http://127.0.0.1:{port}/x",), concurrency=2, requests=20)
    result = run_load(config)
    assert result.status == {200: 20}
    assert result.errors == {}
    assert result.nbytes == 20 * body_bytes
    assert closing_server.connections == 20  # type: ignore[attr-defined]


def test_keep_alive_uses_one_connection_per_worker(fresh_server: MockServer) -> None:
    """200 requests from 4 workers travel on 4 connections, as the server counted them."""
    config = LoadConfig(urls=(fresh_server.url_for("/items/1"),), concurrency=4, requests=200)
    result = run_load(config)
    assert result.status == {200: 200}
    assert fresh_server.stats()["connections"] == 4


def test_redirects_are_counted_not_followed(fresh_server: MockServer) -> None:
    """A 302 is an answer like any other: the server sees no request for where it points."""
    config = LoadConfig(urls=(fresh_server.url_for("/redirect/1"),), concurrency=2, requests=10)
    result = run_load(config)
    assert result.status == {302: 10}
    assert fresh_server.stats()["by_path"] == {"/redirect/1": 10}


def test_pipelining_shares_connections(fresh_server: MockServer) -> None:
    """--pipeline 4 with 8 in flight: 2 connections carry them, every answer matched."""
    urls = tuple(fresh_server.url_for(f"/items/{i}?latency=5ms") for i in range(10))
    config = LoadConfig(urls=urls, concurrency=8, requests=200, pipeline=4)
    result = run_load(config)
    stats = fresh_server.stats()
    assert result.status == {200: 200} and result.errors == {}
    assert stats["connections"] == 2
    assert stats["requests"] == 200


@pytest.mark.parametrize("rate", [None, 400.0], ids=["closed", "open"])
def test_two_origins_share_the_load_on_connections_of_each(
    fresh_server: MockServer, rate: float | None
) -> None:
    """URLs on two servers (two origins: the generator's workers send them, not the driver of
    one origin's connections): each server answers its half, and every answer is counted."""
    with launch(seed=1) as other:
        urls = (fresh_server.url_for("/items/1"), other.url_for("/items/2"))
        result = run_load(LoadConfig(urls=urls, concurrency=4, requests=200, rate=rate))
        assert result.status == {200: 200} and result.errors == {}
        assert fresh_server.stats()["by_path"] == {"/items/1": 100}
        assert other.stats()["by_path"] == {"/items/2": 100}


class _KeepAlive(socketserver.BaseRequestHandler):
    """Count the connection when it is accepted, then answer its requests, keeping it open."""

    def handle(self) -> None:
        self.server.accepted += 1  # type: ignore[attr-defined]
        rest = b""
        while (data := _read_heads(self.request, rest)) is not None:
            rest = data.partition(b"\r\n\r\n")[2]
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_the_open_models_floor_is_connected_before_its_schedule_starts() -> None:
    """5 requests 20 ms apart need one connection; the open model connects its floor (here the
    5 of the count) before its first request is due, as the server's accepts show."""
    with _Server(_KeepAlive) as running:
        running.server.accepted = 0  # type: ignore[attr-defined]
        result = run_load(LoadConfig(urls=(running.url,), rate=50, requests=5))
    assert result.status == {200: 5}
    assert running.server.accepted == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize("rate", [None, 200.0], ids=["closed", "open"])
def test_every_refused_connect_is_a_request_counted(rate: float | None) -> None:
    """A target that refuses every connect (the open model's floor fails before its schedule
    starts): each request is one connection_refused, and the run ends by itself."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))  # bound but never listening: every connect is refused
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/"
        result = run_load(LoadConfig(urls=(url,), rate=rate, requests=20, concurrency=4))
    assert result.status == {}
    assert result.errors == {"connection_refused": 20}


class _CloseAtOnce(socketserver.BaseRequestHandler):
    """Accept, then close before any request: a server out of connections, or restarting."""

    def handle(self) -> None:
        self.request.close()


class _EndlessBody(socketserver.BaseRequestHandler):
    """Read the requests, then start an answer whose body ends only with the connection, and
    never end it."""

    def handle(self) -> None:
        if _read_heads(self.request, b"", 2) is None:
            return
        self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nxx")
        while self.request.recv(4096):
            pass


@pytest.mark.parametrize("rate", [None, 200.0], ids=["closed", "open"])
@pytest.mark.parametrize("origins", [1, 2])
def test_connections_closed_at_once_are_each_a_request_failed(
    rate: float | None, origins: int
) -> None:
    """A server that closes every connection as it accepts it: each request fails (as
    disconnected or reset), and a run of a count ends by itself, on one origin (the driver) and
    on two (the workers)."""
    with _Server(_CloseAtOnce) as one, _Server(_CloseAtOnce) as two:
        urls = (one.url, two.url)[:origins]
        result = run_load(LoadConfig(urls=urls, rate=rate, requests=30, concurrency=2))
    assert result.status == {}
    assert sum(result.errors.values()) == 30
    assert set(result.errors) <= {"disconnected", "connection_reset"}


def test_a_request_pipelined_behind_a_timed_out_one_is_not_counted_answered() -> None:
    """Two requests pipelined on one connection, the first answered with a body that never
    ends: the first times out, and the second is not counted as answered when the connection
    drops (a timeout too, or disconnected if it was sent after the sweep's cutoff)."""
    with _Server(_EndlessBody) as server:
        config = LoadConfig(
            urls=(server.url,), requests=2, concurrency=2, pipeline=2, timeout_s=0.3
        )
        result = run_load(config)
    assert result.status == {}
    assert sum(result.errors.values()) == 2 and result.errors.get("timeout", 0) >= 1
    assert set(result.errors) <= {"timeout", "disconnected"}


def test_pipelining_keeps_no_more_in_flight_than_c(fresh_server: MockServer) -> None:
    """-c 10 with --pipeline 4: three connections, but never more than 10 requests in flight."""
    url = fresh_server.url_for("/items/1?latency=20ms")
    result = run_load(LoadConfig(urls=(url,), concurrency=10, requests=100, pipeline=4))
    assert result.status == {200: 100}
    assert result.peak_in_flight == 10
    assert fresh_server.stats()["peak_in_flight"] <= 10


def test_one_origin_is_driven_from_its_connections_and_two_are_not() -> None:
    """The driver takes URLs of one scheme, host and port, whatever their paths."""
    one = [Target("http://127.0.0.1:8080/a"), Target("http://127.0.0.1:8080/b?x=1")]
    assert drivable(one)
    assert not drivable([*one, Target("http://127.0.0.1:8081/a")])
    assert not drivable([*one, Target("https://127.0.0.1:8080/a")])


def test_pipelining_needs_the_fast_client() -> None:
    """Asking another client to pipeline is refused with a message that says what to do."""
    with pytest.raises(ValueError, match="--client fast"):
        LoadConfig(urls=("http://127.0.0.1:1/",), client="aiohttp", pipeline=2)


@pytest.mark.parametrize(
    ("url", "first_line", "host"),
    [
        ("http://127.0.0.1:8080/a?b=1", b"GET /a?b=1 HTTP/1.1", b"Host: 127.0.0.1:8080"),
        ("https://example.test", b"GET / HTTP/1.1", b"Host: example.test"),
        ("http://[::1]:81/", b"GET / HTTP/1.1", b"Host: [::1]:81"),
    ],
)
def test_request_bytes_are_built_once_per_url(url: str, first_line: bytes, host: bytes) -> None:
    """Each URL's request is HTTP/1.1 with its path, query and Host header, ending in CRLFCRLF."""
    request = Target(url).request
    lines = request.split(b"\r\n")
    assert lines[0] == first_line
    assert host in lines
    assert request.endswith(b"\r\n\r\n")
