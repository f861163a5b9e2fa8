"""`mock-server` / `python -m mock_server`: run the mock API until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.log import access_logger

from mock_server.app import create_app
from mock_server.faults import (
    DEFAULT_DISTRIBUTION,
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
# On SIGTERM, requests still running (a hang, a 1 s latency) get this long before they are cut.
SHUTDOWN_TIMEOUT_S = 1.0
# Exit statuses: 2 for a bad command line (argparse's), 1 when the address cannot be bound.
EXIT_CANNOT_LISTEN = 1
EXIT_INTERRUPTED = 130


class ListenError(OSError):
    """The address cannot be bound: taken, not ours, or not an address."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (exit 2), not the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _port(text: str) -> int:
    """A TCP port number, 0 meaning any free one."""
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"bad port {text!r}: use 0-65535 (0 picks a free one)")
    return int(text)


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
    parser = _Parser(
        prog="mock-server",
        description="A local API with injected latency and faults, for measuring HTTP clients.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="port; 0 picks a free one")
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
        help="spread of the latency: +/- for uniform, standard deviation for (log)normal",
    )
    parser.add_argument(
        "--distribution",
        choices=DISTRIBUTIONS,
        default=DEFAULT_DISTRIBUTION,
        help="shape of the latency (default uniform: +/- jitter; fixed ignores jitter)",
    )
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
        "--uvloop",
        action="store_true",
        help="run on uvloop (in the checkout: pip install -e '.[uvloop]')",
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
        site = web.TCPSite(runner, args.host, args.port, backlog=LISTEN_BACKLOG)
        try:
            await site.start()
        except OSError as error:
            # asyncio wraps the bind error in a long sentence; the errno's own words are enough.
            reason = os.strerror(error.errno) if error.errno and error.errno > 0 else error.strerror
            raise ListenError(
                f"cannot listen on {url_for(args.host, args.port)}: {reason}"
            ) from None
        host, port = runner.addresses[0][:2]
        print(f"listening on {url_for(host, port)}", flush=True)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mock-server`."""
    args = build_parser().parse_args(argv)
    raise_fd_limit()
    try:
        run = _event_loop_runner(args.uvloop)
    except ImportError:
        print(
            "mock-server: --uvloop needs uvloop: in the checkout, pip install -e '.[uvloop]'",
            file=sys.stderr,
        )
        return 2
    try:
        run(serve(args))
    except ListenError as error:
        print(f"mock-server: {error}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    except KeyboardInterrupt:
        # Ctrl-C before the signal handlers were in place: stop just as quietly.
        return EXIT_INTERRUPTED
    return 0


def _event_loop_runner(use_uvloop: bool) -> Callable[[Coroutine[Any, Any, None]], None]:
    """asyncio.run, or uvloop.run when asked for (ImportError when it is not installed)."""
    if not use_uvloop:
        return asyncio.run
    import uvloop

    return uvloop.run


if __name__ == "__main__":
    sys.exit(main())
