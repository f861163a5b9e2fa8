"""`mock-server` / `python -m mock_server`: run the mock API until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from aiohttp import web
from aiohttp.log import access_logger

from mock_server.app import create_app
from mock_server.faults import (
    DISTRIBUTIONS,
    Behaviour,
    ParamError,
    parse_duration_ms,
    parse_faults,
    parse_fraction,
    parse_rate_limit,
)

# Enough queued connections for thousands of clients arriving at once.
LISTEN_BACKLOG = 4096


def _arg(parse: Callable[[str], object]) -> Callable[[str], object]:
    """Adapt one of our parsers to argparse, so a bad flag is a one-line usage error."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ParamError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def build_parser() -> argparse.ArgumentParser:
    """The command line; every behaviour flag can be overridden per request by a query parameter."""
    parser = argparse.ArgumentParser(
        prog="mock-server",
        description="A local API with injected latency and faults, for measuring HTTP clients.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument(
        "--latency",
        type=_arg(lambda v: parse_duration_ms(v, name="latency")),
        default=0.0,
        help="mean injected latency: 100ms, 1.5s or milliseconds",
    )
    parser.add_argument(
        "--jitter",
        type=_arg(lambda v: parse_duration_ms(v, name="jitter")),
        default=0.0,
        help="spread of the latency (standard deviation or +/-)",
    )
    parser.add_argument("--distribution", choices=DISTRIBUTIONS, default="fixed")
    parser.add_argument("--seed", type=int, default=None, help="seed for every random draw")
    parser.add_argument(
        "--error-rate",
        type=_arg(lambda v: parse_fraction(v, name="error-rate")),
        default=0.0,
        help="fraction of requests answered 500/502/503",
    )
    parser.add_argument(
        "--rate-limit",
        type=_arg(parse_rate_limit),
        default=0.0,
        help="requests/s; beyond it 429 with Retry-After (0: no limit)",
    )
    parser.add_argument(
        "--faults",
        type=_arg(parse_faults),
        default=(),
        help="e.g. reset=0.01,empty=0.01,hang=0.01,slow=0.02,malformed=0.01",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--uvloop", action="store_true", help="run on uvloop (pip install fetcher[uvloop])"
    )
    # Used by mock_server.launch(): exit when the parent closes our stdin, even if it was killed.
    parser.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    return parser


def raise_fd_limit() -> int:
    """Raise the open-file limit to its hard maximum: each connection is a file descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def url_for(host: str, port: int) -> str:
    """The base URL for a bound address (IPv6 in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
    runner = web.AppRunner(
        app, access_log=access_logger if args.access_log else None, handler_cancellation=True
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if args.exit_with_stdin:
        _watch_stdin(lambda: loop.call_soon_threadsafe(stop.set))
    try:
        site = web.TCPSite(
            runner, args.host, args.port, backlog=LISTEN_BACKLOG, shutdown_timeout=1.0
        )
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"listening on {url_for(host, port)}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def _watch_stdin(on_eof: Callable[[], object]) -> None:
    """Call `on_eof` from a daemon thread once stdin is closed."""

    def wait() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        on_eof()

    threading.Thread(target=wait, name="stdin-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mock-server`."""
    args = build_parser().parse_args(argv)
    raise_fd_limit()
    if args.uvloop:
        try:
            import uvloop
        except ImportError:
            print(
                "mock-server: --uvloop needs uvloop: pip install 'fetcher[uvloop]'", file=sys.stderr
            )
            return 2
        uvloop.run(serve(args))
    else:
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
