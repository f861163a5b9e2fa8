"""`mock-server --tls`: HTTPS with a certificate made at start-up, and the handshakes it counts."""

from __future__ import annotations

import http.client
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from mock_server import MockServer, launch
from mock_server.__main__ import main
from tests.conftest import wait_until


def https_connection(server: MockServer, context: ssl.SSLContext) -> http.client.HTTPSConnection:
    """A kept-alive connection to the server (not yet opened)."""
    host, port = server.url.removeprefix("https://").rsplit(":", 1)
    return http.client.HTTPSConnection(host, int(port), context=context, timeout=10)


def get_on(connection: http.client.HTTPConnection, path: str) -> int:
    """One GET on an open (or opening) connection; its status."""
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status


def test_tls_prints_the_ca_bundle_then_an_https_url_and_cleans_up() -> None:
    """`mock-server --tls --port 0` names its CA bundle, serves HTTPS trusted by it, and removes
    the bundle when it stops."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--tls", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ca_line, url_line = process.stdout.readline(), process.stdout.readline()
        assert ca_line.startswith("CA bundle: ") and url_line.startswith("listening on https://")
        ca_path = ca_line.split(": ", 1)[1].strip()
        server = MockServer(url=url_line.split()[-1], pid=process.pid, ca_path=ca_path)
        connection = https_connection(server, ssl.create_default_context(cafile=ca_path))
        assert get_on(connection, "/health") == 200
        connection.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()
    assert not os.path.exists(ca_path)


@pytest.mark.parametrize("uvloop", [False, True])
def test_connections_and_handshakes_are_counted_once_each(uvloop: bool) -> None:
    """Three requests on one connection and one on another: two connections, two handshakes,
    and the connections /stats is read on are not among them (on asyncio and on uvloop)."""
    if uvloop:
        pytest.importorskip("uvloop")
    with launch(tls=True, uvloop=uvloop) as server:
        assert server.ca_path is not None
        context = ssl.create_default_context(cafile=server.ca_path)
        first, second = https_connection(server, context), https_connection(server, context)
        assert [get_on(first, f"/items/{i}") for i in range(3)] == [200] * 3
        server.reset_stats()  # a connection from before a reset is not new after it
        assert get_on(first, "/items/3") == 200
        assert get_on(second, "/items/4") == 200
        first.close()
        second.close()
        stats = server.stats()
    assert stats["requests"] == 2
    assert (stats["connections"], stats["tls_handshakes"], stats["tls_failed"]) == (1, 1, 0)


def test_plain_http_counts_connections_too(fresh_server: MockServer) -> None:
    """Over plain HTTP a kept-alive connection is one connection, and no handshake."""
    host, port = fresh_server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    assert [get_on(connection, f"/items/{i}") for i in range(3)] == [200] * 3
    connection.close()
    stats = fresh_server.stats()
    assert (stats["requests"], stats["connections"], stats["tls_handshakes"]) == (3, 1, 0)


def test_a_refused_certificate_is_a_failed_handshake_and_no_request(
    tls_server: MockServer,
) -> None:
    """A client that does not trust the CA never gets a request through; the server counts the
    handshake that never completed."""
    tls_server.reset_stats()
    strangers = ssl.create_default_context(cafile=trustme_ca_path(tls_server))
    with pytest.raises(ssl.SSLCertVerificationError):
        get_on(https_connection(tls_server, strangers), "/items/1")
    wait_until(lambda: tls_server.stats()["tls_failed"] == 1, "the failed handshake")
    stats = tls_server.stats()
    assert (stats["requests"], stats["connections"], stats["tls_handshakes"]) == (0, 0, 0)


def trustme_ca_path(server: MockServer) -> str:
    """The CA bundle of a CA other than the server's, beside the server's own."""
    assert server.ca_path is not None
    path = Path(server.ca_path).with_name("stranger.pem")
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_the_server_speaks_http_1_1_only(tls_server: MockServer) -> None:
    """A client offering HTTP/2 first is told, by ALPN, that this server speaks HTTP/1.1."""
    assert tls_server.ca_path is not None
    context = ssl.create_default_context(cafile=tls_server.ca_path)
    context.set_alpn_protocols(["h2", "http/1.1"])
    connection = https_connection(tls_server, context)
    connection.connect()
    assert isinstance(connection.sock, ssl.SSLSocket)
    assert connection.sock.selected_alpn_protocol() == "http/1.1"
    connection.close()


def test_your_own_certificate_files(tmp_path: Path) -> None:
    """--tls-cert and --tls-key serve your certificate; no CA bundle is made or printed."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    own = ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", "0", "--exit-with-stdin", *own],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on https://127.0.0.1:")
        server = MockServer(url=line.split()[-1], pid=process.pid)
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        assert get_on(https_connection(server, context), "/health") == 200
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tls-key", "key.pem"], "--tls-key needs --tls-cert"),
        (["--tls-cert", "/nonexistent.pem"], "cannot use --tls-cert /nonexistent.pem: No such"),
    ],
)
def test_a_certificate_it_cannot_use_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key without a certificate, or a certificate that cannot be read: one line, exit 2."""
    try:
        code = main([*argv, "--port", "0"])
    except SystemExit as exited:  # argparse's way out
        code = exited.code  # type: ignore[assignment]
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mock-server: ") and message in err
