"""Start the mock server in a child process, wait until it answers, and always stop it.

The server runs in its own process so that it never shares a GIL with the client being
measured. The child is in its own session (a Ctrl-C at the terminal reaches only us, and we stop
it in order) and exits by itself if we die, because it watches its stdin, which only we hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

DEFAULT_STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
ANNOUNCEMENT = "listening on "
# As mock_server.server prints it (importing that module here would load aiohttp).
CA_ANNOUNCEMENT = "CA bundle: "


class LaunchError(RuntimeError):
    """The mock server did not start; the message carries what it printed."""


@dataclass(frozen=True)
class MockServer:
    """A running mock server: its base URL, its `/stats`, and for HTTPS the CA bundle to trust."""

    url: str
    pid: int
    ca_path: str | None = None

    def url_for(self, path: str) -> str:
        """An absolute URL on this server."""
        return self.url + path

    def stats(self) -> dict[str, Any]:
        """What the server has seen since the last reset."""
        return _request_json(self, "/stats")  # type: ignore[no-any-return]

    def reset_stats(self) -> None:
        """Zero the server's counters, e.g. between two measured runs."""
        _request_json(self, "/stats/reset", method="POST")


def _request_json(
    server: MockServer, path: str, method: str = "GET", timeout_s: float = 5.0
) -> Any:
    """One request to the server (trusting its CA), and the JSON it answers."""
    context = None if server.ca_path is None else ssl.create_default_context(cafile=server.ca_path)
    # urllib honours HTTP_PROXY; our server is on loopback and must never be reached through one.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    request = urllib.request.Request(server.url_for(path), method=method)
    with opener.open(request, timeout=timeout_s) as response:
        return json.loads(response.read())


def server_argv(**settings: object) -> list[str]:
    """The `mock-server` command line for keyword settings named like its flags."""
    argv = [sys.executable, "-m", "mock_server", "--exit-with-stdin"]
    for name, value in settings.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, dict):
            argv += [flag, ",".join(f"{kind}={rate}" for kind, rate in value.items())]
        else:
            argv += [flag, str(value)]
    return argv


@contextlib.contextmanager
def launch(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    latency: str | float | None = None,
    jitter: str | float | None = None,
    distribution: str | None = None,
    seed: int | None = None,
    error_rate: float | None = None,
    rate_limit: float | None = None,
    faults: str | dict[str, float] | None = None,
    uvloop: bool = False,
    access_log: bool = False,
    tls: bool = False,
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
) -> Iterator[MockServer]:
    """Run a mock server for the duration of a `with` block; numbers for durations are ms.

    With `tls=True` it serves HTTPS with a certificate made at start-up; `MockServer.ca_path`
    is the CA bundle that trusts it, valid while the block runs.
    """
    argv = server_argv(
        host=host,
        port=port,
        latency=latency,
        jitter=jitter,
        distribution=distribution,
        seed=seed,
        error_rate=error_rate,
        rate_limit=rate_limit,
        faults=faults,
        uvloop=uvloop,
        access_log=access_log,
        tls=tls,
    )
    # stderr goes to a file, not a pipe: a pipe nobody reads would block a chatty server.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        with _stopped_at_exit(process):
            url, ca_path = _wait_for_announcement(process, startup_timeout_s, stderr)
            server = MockServer(url=url, pid=process.pid, ca_path=ca_path)
            _wait_until_healthy(server, process, startup_timeout_s)
            yield server


@contextlib.contextmanager
def _stopped_at_exit(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Stop `process` however the block ends."""
    try:
        yield
    finally:
        stop(process)


def _wait_for_announcement(
    process: subprocess.Popen[bytes], timeout_s: float, stderr: IO[bytes]
) -> tuple[str, str | None]:
    """Read the child's stdout until it says where it listens (and where its CA bundle is)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    fd = process.stdout.fileno()
    buffer = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            process.wait()
            raise LaunchError(f"mock server exited before listening: {_tail(stderr)}")
        buffer += chunk
        ca_path = None
        for line in buffer.decode(errors="replace").splitlines():
            if line.startswith(CA_ANNOUNCEMENT):
                ca_path = line[len(CA_ANNOUNCEMENT) :].strip()
            elif line.startswith(ANNOUNCEMENT):
                return line[len(ANNOUNCEMENT) :].strip(), ca_path
    raise LaunchError(f"mock server did not announce itself within {timeout_s:g} s")


def _wait_until_healthy(
    server: MockServer, process: subprocess.Popen[bytes], timeout_s: float
) -> None:
    """Poll /health until it answers: listening is not yet serving."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _request_json(server, "/health", timeout_s=1.0)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise LaunchError(f"mock server at {server.url} never answered /health") from None
            time.sleep(0.02)


def _tail(stderr: IO[bytes]) -> str:
    """The end of what the child wrote to stderr, for an error message."""
    stderr.seek(0)
    return stderr.read().decode(errors="replace").strip()[-2000:] or "(no output)"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the child politely, then firmly; never leave it running."""
    try:
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT_S)
    finally:
        # Too slow, or a second Ctrl-C arrived while we waited: no more politeness.
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
