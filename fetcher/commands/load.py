"""`fetcher load`: load-test a URL, a URL file, or (with no target) the bundled mock server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from fetcher.commands import _args

if TYPE_CHECKING:
    from fetcher.load import LoadConfig, LoadResult
    from mock_server import MockServer

EXIT_OK = 0
# Every request failed before any answer (a dead target, a wrong port): the report still prints.
EXIT_NO_RESPONSE = 1
EXIT_INTERRUPTED = 130
# The bundled server's items the default target cycles through.
SERVER_ITEMS = 100
MAX_DURATION_MS = 7 * 24 * 3600 * 1000.0


def duration_s(text: str) -> float:
    """An argparse type: `30s`, `100ms` or milliseconds, in seconds, up to a week."""
    seconds = _args.duration_s(text)
    if seconds * 1000 > MAX_DURATION_MS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is over the cap of a week ({MAX_DURATION_MS / 1000:.0f} s)"
        )
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The load flags, then the bundled server's."""
    parser.add_argument(
        "target",
        nargs="?",
        help="a URL, or a file of URLs (one a line) to cycle through; "
        "none: start the bundled mock server and load its /items/{i}",
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "-c",
        "--concurrency",
        type=_args.positive_int,
        metavar="C",
        help="closed model: connections, each sending when the last answered "
        "(default 64); open model: cap on requests in flight (default 2000)",
    )
    load.add_argument(
        "-r",
        "--rate",
        type=_args.positive_float,
        metavar="R",
        help="open model: R requests/s at constant arrival, latency corrected "
        "for coordinated omission",
    )
    load.add_argument(
        "-z",
        "--duration",
        type=duration_s,
        metavar="TIME",
        help="stop after this long, e.g. 30s (default 10s if no --requests)",
    )
    load.add_argument(
        "-n", "--requests", type=_args.positive_int, metavar="N", help="stop after N requests"
    )
    load.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp")
    load.add_argument(
        "-p",
        "--processes",
        type=_args.positive_int,
        default=1,
        metavar="P",
        help="one generator per process, histograms merged (default 1)",
    )
    load.add_argument(
        "--timeout",
        type=duration_s,
        default=30.0,
        metavar="TIME",
        help="limit on one request (default 30s)",
    )
    load.add_argument("--no-uvloop", action="store_true", help="use asyncio's own event loop")
    load.add_argument("--json", metavar="FILE", help="write the whole report as JSON")
    load.add_argument("--csv", metavar="FILE", help="write one row per request")
    server = parser.add_argument_group("bundled server (when no target is given)")
    server.add_argument("--latency", default=None, help="mean injected latency, e.g. 50ms")
    server.add_argument("--jitter", default=None, help="spread of the latency")
    server.add_argument("--distribution", default=None, help="fixed, uniform, normal, ...")
    server.add_argument("--error-rate", type=float, default=None, help="fraction answered 5xx")
    server.add_argument("--faults", default=None, help="e.g. hang=0.01,reset=0.01")
    server.add_argument("--seed", type=int, default=None, help="seed for the server's draws")


def read_targets(target: str) -> tuple[str, ...]:
    """One URL, or the URLs of a file (blank lines and # comments skipped)."""
    from fetcher.errors import FetcherError

    if target.startswith(("http://", "https://")):
        return (target,)
    if not os.path.isfile(target):
        raise FetcherError(f"{target!r} is neither an http(s) URL nor a file of URLs")
    urls: list[str] = []
    with open(target, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            url = line.split("#", 1)[0].strip()
            if url and not url.startswith(("http://", "https://")):
                raise FetcherError(f"{target}:{number}: not an http(s) URL: {url!r}")
            if url:
                urls.append(url)
    if not urls:
        raise FetcherError(f"{target} has no URLs")
    return tuple(urls)


def build_config(args: argparse.Namespace, urls: tuple[str, ...]) -> LoadConfig:
    """The library's settings from the flags; bad combinations become a FetcherError."""
    from fetcher.errors import FetcherError
    from fetcher.load import DEFAULT_CONCURRENCY, DEFAULT_OPEN_CONCURRENCY, LoadConfig

    default_concurrency = DEFAULT_CONCURRENCY if args.rate is None else DEFAULT_OPEN_CONCURRENCY
    try:
        return LoadConfig(
            urls=urls,
            rate=args.rate,
            concurrency=args.concurrency or default_concurrency,
            duration_s=args.duration,
            requests=args.requests,
            client=args.client,
            processes=args.processes,
            timeout_s=args.timeout,
            csv_path=args.csv,
            use_uvloop=not args.no_uvloop,
        ).bounded
    except ValueError as error:
        raise FetcherError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """Run the load, print the report, write the files asked for."""
    from contextlib import ExitStack

    from fetcher import load_report

    with ExitStack() as stack:
        server = None
        if args.target is None:
            server = stack.enter_context(_launch_server(args))
            urls = tuple(server.url_for(f"/items/{i}") for i in range(SERVER_ITEMS))
        else:
            urls = read_targets(args.target)
        config = build_config(args, urls)
        _announce(config)
        result = _load(config)
        data = load_report.to_json(result, server.stats() if server is not None else None)
    # The files first: a report cut short (a closed pipe, a second Ctrl-C) must not lose them.
    if args.json:
        load_report.write_json(data, args.json)
    if args.csv:
        load_report.write_csv(result.csv_parts, args.csv)
    load_report.render(data)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.requests and not data["responses"]:
        errors = ", ".join(f"{count:,} {kind}" for kind, count in data["errors"].items())
        print(f"fetcher load: no request got a response ({errors})", file=sys.stderr)
        return EXIT_NO_RESPONSE
    return EXIT_OK


def _announce(config: LoadConfig) -> None:
    """Say on stderr what is about to run, as wrk does."""
    bound = " and ".join(
        part
        for part in (
            f"{config.duration_s:g} s" if config.duration_s else "",
            f"{config.requests:,} requests" if config.requests else "",
        )
        if part
    )
    how = f"{config.concurrency} connections" if config.rate is None else f"{config.rate:g}/s"
    print(
        f"fetcher load: {config.model} model, {how}, up to {bound} @ {config.urls[0]}"
        + (f" and {len(config.urls) - 1} more URLs" if len(config.urls) > 1 else ""),
        file=sys.stderr,
        flush=True,
    )


def _load(config: LoadConfig) -> LoadResult:
    """Run the load with the live display on stderr when it is a terminal."""
    from fetcher.load import run_load
    from fetcher.load_report import live_display

    with live_display() as live:
        return run_load(config, live if live.live is not None else None)


@contextmanager
def _launch_server(args: argparse.Namespace) -> Iterator[MockServer]:
    """The bundled mock server with the flags given, on uvloop when it is installed."""
    import importlib.util

    from fetcher.errors import FetcherError
    from mock_server import LaunchError, launch

    settings = launch(
        latency=args.latency,
        jitter=args.jitter,
        distribution=args.distribution,
        error_rate=args.error_rate,
        faults=args.faults,
        seed=args.seed,
        uvloop=importlib.util.find_spec("uvloop") is not None,
    )
    try:
        with settings as server:
            yield server
    except LaunchError as error:
        raise FetcherError(f"the bundled server did not start: {error}") from None
