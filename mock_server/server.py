"""Serving the mock API: bind, announce the address, run until a signal or the parent goes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import resource
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from aiohttp.log import access_logger

from mock_server.app import create_app
from mock_server.behaviour import Behaviour
from mock_server.state import STATE
from mock_server.tls import ServerTLS, count_handshakes, from_files, made_now

# Enough queued connections for thousands of clients arriving at once.
LISTEN_BACKLOG = 4096
# On SIGTERM, requests still running (a hang, a 1 s latency) get this long before they are cut.
SHUTDOWN_TIMEOUT_S = 1.0
# Printed before "listening on", so whoever waits for that line has read this one too.
CA_ANNOUNCEMENT = "CA bundle: "


class ListenError(OSError):
    """The address cannot be bound: taken, not ours, or not an address."""


def raise_fd_limit() -> int:
    """Raise the open-file limit to its hard maximum: each connection is a file descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def exposed(hosts: list[str]) -> list[str]:
    """The bound addresses that other machines can reach (any that is not loopback)."""
    found = []
    for host in hosts:
        try:
            loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            found.append(host)
    return found


def exposure_warning(url: str) -> str:
    """The line printed for each address reachable from other machines."""
    return (
        f"mock-server: warning: listening on {url}, reachable from other machines; the mock "
        "server has no authentication and does what any request asks (delays, faults, large "
        "bodies): bind 127.0.0.1 unless that is what you want"
    )


def url_for(host: str, port: int, scheme: str = "http") -> str:
    """The base URL for a bound address (IPv6 in brackets)."""
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def server_tls(args: argparse.Namespace, stack: contextlib.ExitStack) -> ServerTLS | None:
    """The HTTPS the flags ask for, if any (TLSSetupError when it cannot be had).

    A certificate made now has its CA bundle in a folder that lives as long as `stack`.
    """
    if args.tls_cert is not None:
        return from_files(args.tls_cert, args.tls_key)
    if not args.tls:
        return None
    return made_now(stack.enter_context(tempfile.TemporaryDirectory(prefix="mock-server-")))


async def serve(args: argparse.Namespace) -> None:
    """Run the app until a signal (or, with --exit-with-stdin, end of stdin) asks it to stop."""
    behaviour = Behaviour(
        latency_ms=args.latency,
        jitter_ms=args.jitter,
        distribution=args.distribution,
        error_rate=args.error_rate,
        rate_limit=args.rate_limit,
        faults=args.faults,
    )
    app = create_app(behaviour, seed=args.seed)
    with contextlib.ExitStack() as stack:
        tls = server_tls(args, stack)
        if tls is not None:
            stats = app[STATE].stats
            count_handshakes(tls.context, stats.tls_started, stats.tls_completed)
        await _serve_app(app, args, tls)


async def _serve_app(app: web.Application, args: argparse.Namespace, tls: ServerTLS | None) -> None:
    """Serve `app` on the address the flags give until asked to stop."""
    scheme = "http" if tls is None else "https"
    runner = web.AppRunner(
        app,
        access_log=access_logger if args.access_log else None,
        handler_cancellation=True,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if args.exit_with_stdin:
        _watch_stdin(lambda: loop.call_soon_threadsafe(stop.set))
    try:
        context = None if tls is None else tls.context
        site = web.TCPSite(
            runner, args.host, args.port, backlog=LISTEN_BACKLOG, ssl_context=context
        )
        try:
            await site.start()
        except OSError as error:
            # asyncio wraps the bind error in a long sentence; the errno's own words are enough.
            reason = os.strerror(error.errno) if error.errno and error.errno > 0 else error.strerror
            raise ListenError(
                f"cannot listen on {url_for(args.host, args.port, scheme)}: {reason}"
            ) from None
        host, port = runner.addresses[0][:2]
        for address in exposed([each[0] for each in runner.addresses]):
            print(exposure_warning(url_for(address, port, scheme)), file=sys.stderr, flush=True)
        if tls is not None and tls.ca_path is not None:
            print(f"{CA_ANNOUNCEMENT}{tls.ca_path}", flush=True)
        print(f"listening on {url_for(host, port, scheme)}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def _watch_stdin(on_eof: Callable[[], object]) -> None:
    """Call `on_eof` from a daemon thread once stdin is closed."""
    fd = sys.stdin.fileno()

    def wait() -> None:
        # os.read, not sys.stdin: a thread parked in a buffered read holds a lock that makes
        # interpreter shutdown abort with "could not acquire lock for <stdin>".
        while os.read(fd, 4096):
            pass
        # The loop may already be closed if we are stopping anyway.
        with contextlib.suppress(RuntimeError):
            on_eof()

    threading.Thread(target=wait, name="stdin-watch", daemon=True).start()


def event_loop_runner(use_uvloop: bool) -> Callable[[Coroutine[Any, Any, None]], None]:
    """asyncio.run, or uvloop.run when asked for (ImportError when it is not installed)."""
    if not use_uvloop:
        return asyncio.run
    import uvloop

    return uvloop.run
