"""Benchmark HTTPS against HTTP: what a TLS handshake costs, per client and per strategy.

    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_tls.py           # ~2 minutes
    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_tls.py --quick
    .venv/bin/python scripts/bench_tls.py --only handshake

Two bundled mock servers run side by side, one plain and one over TLS, both pinned to CPU 0
(this process and its children to CPU 1 where the machine has two). The clients trust a bundle
the size of production's (certifi's certificates plus the test CA), so building an SSL context
costs what it costs in production. Every figure is measured in alternating rounds within the
run and quoted as a median, and as a ratio to its HTTP baseline.

handshake   CPU per request of each client, keeping its connection or opening one per request,
            over HTTP and HTTPS: the difference is what a handshake costs, client and server
context     what building one SSL context costs (requests, left alone, builds one per connection)
strategies  every strategy over HTTP, HTTPS, and HTTPS without keep-alive: wall time, CPU, and
            the connections and handshakes the server counted
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
import certifi
import httpx
import psutil
import requests
from _bench import exit_on_sigterm

from fetcher import FetchConfig
from fetcher.compare.harness import run_strategy
from fetcher.config import TLS
from fetcher.policy.tls import client_context
from fetcher.strategies import STRATEGIES
from fetcher.strategies.requests_http import new_session
from mock_server import MockServer, launch

Client = Callable[[str, int, bool], None]


def cpu_s(pid: int | None = None) -> float:
    """User + system CPU of a process (this one by default)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


@contextmanager
def servers() -> Iterator[tuple[MockServer, MockServer, str]]:
    """A plain and a TLS mock server, pinned, and a production-sized bundle trusting the second."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        plain = stack.enter_context(launch())
        secure = stack.enter_context(launch(tls=True))
        assert secure.ca_path is not None
        bundle = Path(folder) / "bundle.pem"
        bundle.write_text(Path(certifi.where()).read_text() + Path(secure.ca_path).read_text())
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
            for server in (plain, secure):
                os.sched_setaffinity(server.pid, {0})
            os.sched_setaffinity(0, {1})
        yield plain, secure, str(bundle)


def requests_shared(bundle: str) -> Client:
    """requests with fetcher's session: one SSL context for every connection."""

    def run(base: str, count: int, keep: bool) -> None:
        config = FetchConfig(tls=TLS(ca_bundle=bundle), keepalive=keep)
        with new_session(config) as session:
            for i in range(count):
                session.get(f"{base}/items/{i}").content  # noqa: B018 - read the body

    return run


def requests_default(bundle: str) -> Client:
    """requests left alone: urllib3 builds a context, loading the bundle, per new connection."""

    def run(base: str, count: int, keep: bool) -> None:
        with requests.Session() as session:
            session.trust_env, session.verify = False, bundle
            if not keep:
                session.headers["Connection"] = "close"
            for i in range(count):
                session.get(f"{base}/items/{i}").content  # noqa: B018 - read the body

    return run


def aiohttp_client(bundle: str) -> Client:
    """aiohttp with one context; force_close for a connection per request."""
    context = client_context(TLS(ca_bundle=bundle))

    async def go(base: str, count: int, keep: bool) -> None:
        connector = aiohttp.TCPConnector(limit=1, ssl=context, force_close=not keep)
        async with aiohttp.ClientSession(connector=connector) as session:
            for i in range(count):
                async with session.get(f"{base}/items/{i}") as response:
                    await response.read()

    return lambda base, count, keep: asyncio.run(go(base, count, keep))


def httpx_client(bundle: str) -> Client:
    """httpx with one context; no kept-alive connections for a connection per request."""
    context = client_context(TLS(ca_bundle=bundle))

    async def go(base: str, count: int, keep: bool) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1 if keep else 0)
        async with httpx.AsyncClient(verify=context, trust_env=False, limits=limits) as client:
            for i in range(count):
                (await client.get(f"{base}/items/{i}")).read()

    return lambda base, count, keep: asyncio.run(go(base, count, keep))


def handshake(plain: MockServer, secure: MockServer, bundle: str, count: int, rounds: int) -> None:
    """CPU per request, µs, client and server, for each client and way of connecting."""
    clients = {
        "requests (fetcher's session)": requests_shared(bundle),
        "requests, context per connection": requests_default(bundle),
        "aiohttp": aiohttp_client(bundle),
        "httpx": httpx_client(bundle),
    }
    cases = [(s, keep) for s in (plain, secure) for keep in (True, False)]
    cost: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for name, client in clients.items():
            for case, (server, keep) in enumerate(cases):
                client_before, server_before = cpu_s(), cpu_s(server.pid)
                client(server.url, count, keep)
                spent = (cpu_s() - client_before, cpu_s(server.pid) - server_before)
                cost.setdefault((name, case), []).append((spent[0] / count, spent[1] / count))
    print(f"\nCPU per request, µs, client/server ({count} requests, median of {rounds} rounds)")
    print(f"  {'':34}{'HTTP kept':>14}{'HTTP new':>14}{'HTTPS kept':>14}{'HTTPS new':>14}")
    for name in clients:
        cells = [median_pair(cost[name, case]) for case in range(len(cases))]
        row = "".join(f"{c * 1e6:>8.0f}/{s * 1e6:<5.0f}" for c, s in cells)
        extra_client = (cells[3][0] - cells[1][0]) * 1e3
        extra_server = (cells[3][1] - cells[1][1]) * 1e3
        print(f"  {name:34}{row}  handshake: {extra_client:.2f}/{extra_server:.2f} ms")


def median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median of each half of a list of pairs."""
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def context_cost(bundle: str, ca_path: str) -> None:
    """Building one SSL context: with a production-sized bundle, and with one certificate."""
    print("\nBuilding one SSL context (median of 20)")
    for label, cafile in (("production-sized bundle", bundle), ("the test CA alone", ca_path)):
        times = []
        for _ in range(20):
            started = time.process_time()
            ssl.create_default_context(cafile=cafile)
            times.append(time.process_time() - started)
        print(f"  {label:26} {statistics.median(times) * 1e3:6.2f} ms of CPU")


def strategies(plain: MockServer, secure: MockServer, bundle: str, count: int, rounds: int) -> None:
    """Each strategy on HTTP, HTTPS, and HTTPS with a connection per request."""
    base = FetchConfig(concurrency=10, processes=2)
    cases = {
        "http": (plain, base),
        "https": (secure, replace(base, tls=TLS(ca_bundle=bundle))),
        "https, no keep-alive": (secure, replace(base, tls=TLS(ca_bundle=bundle), keepalive=False)),
    }
    figures: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for server in (plain, secure):
            files[server.url] = Path(folder) / f"{server.pid}.txt"
            files[server.url].write_text("".join(f"{server.url}/items/{i}\n" for i in range(count)))
        for _ in range(rounds):
            for name in STRATEGIES:
                for case, (server, config) in cases.items():
                    server_before = cpu_s(server.pid)
                    run = run_strategy(name, files[server.url], config, server=server)
                    server_spent = cpu_s(server.pid) - server_before
                    handshakes = run.server_handshakes or 0
                    figures.setdefault((name, case), []).append(
                        (run.wall_s, run.cpu_s, server_spent, handshakes)
                    )
    print(f"\n{count} requests, concurrency 10, 2 processes (median of {rounds} rounds)")
    header = f"{'wall s':>8}{'client CPU s':>14}{'server CPU s':>14}{'handshakes':>12}"
    print(f"  {'':39}{header}  wall vs HTTP")
    for name in STRATEGIES:
        http_wall = statistics.median(f[0] for f in figures[name, "http"])
        for case in cases:
            rows = figures[name, case]
            wall, client, server = (statistics.median(r[i] for r in rows) for i in range(3))
            ratio = f"{wall / http_wall:.2f}x" if case != "http" and http_wall else ""
            print(
                f"  {name:17}{case:22}{wall:8.2f}{client:14.3f}{server:14.3f}"
                f"{rows[-1][3]:12d}  {ratio}"
            )


SECTIONS = ("handshake", "context", "strategies")


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only this section (repeatable)"
    )
    args = parser.parse_args()
    only = set(args.only or SECTIONS)
    rounds = 2 if args.quick else 3
    with servers() as (plain, secure, bundle):
        if "handshake" in only:
            handshake(plain, secure, bundle, 100 if args.quick else 300, rounds)
        if "context" in only:
            assert secure.ca_path is not None
            context_cost(bundle, secure.ca_path)
        if "strategies" in only:
            strategies(plain, secure, bundle, 100 if args.quick else 200, rounds)


if __name__ == "__main__":
    main()
