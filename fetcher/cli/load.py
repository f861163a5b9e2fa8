"""`fetcher load`: load-test a URL, a URL file, or (with no target) the bundled mock server."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fetcher.cli import exits
from fetcher.cli.args import duration_s, positive_float, positive_int
from fetcher.cli.tls import add_tls_options, tls_from_args
from fetcher.load.config import (
    CLIENTS,
    DEFAULT_CONCURRENCY,
    DEFAULT_DURATION_S,
    DEFAULT_OPEN_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
)
from fetcher.load.csv_rows import CSV_HEADER
from mock_server.behaviour import DISTRIBUTIONS
from mock_server.params import arg_type, parse_duration_ms, parse_faults, parse_fraction

if TYPE_CHECKING:
    from fetcher.load import LoadConfig, LoadResult
    from mock_server import MockServer

# The bundled server's items the default target cycles through.
SERVER_ITEMS = 100


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
        type=positive_int,
        metavar="C",
        help="closed model: connections, each sending when the last answered "
        f"(default {DEFAULT_CONCURRENCY}); open model: cap on requests in flight "
        f"(default {DEFAULT_OPEN_CONCURRENCY}; under it the pool starts at {DEFAULT_CONCURRENCY} "
        "connections, which the fast client opens before its clock starts, and grows only as "
        "requests fall overdue, up to rate x the fastest latency seen x 2)",
    )
    load.add_argument(
        "-r",
        "--rate",
        type=positive_float,
        metavar="R",
        help="open model: R requests/s at constant arrival, latency corrected "
        "for coordinated omission",
    )
    load.add_argument(
        "-z",
        "--duration",
        type=duration_s,
        metavar="TIME",
        help=f"stop after this long, e.g. 30s (default {DEFAULT_DURATION_S:g}s if no --requests)",
    )
    load.add_argument(
        "-n", "--requests", type=positive_int, metavar="N", help="stop after N requests"
    )
    load.add_argument(
        "--client",
        choices=CLIENTS,
        default=CLIENTS[0],
        help="fast (default): raw HTTP/1.1 keep-alive on asyncio protocols, parsed by httptools, "
        "redirects not followed; aiohttp or httpx: the general-purpose clients",
    )
    load.add_argument(
        "--pipeline",
        type=positive_int,
        default=1,
        metavar="N",
        help="fast client: write up to N requests on a connection before the first answers "
        "(HTTP pipelining; -c stays the cap on requests in flight; default 1: none)",
    )
    load.add_argument(
        "-p",
        "--processes",
        type=positive_int,
        default=None,
        metavar="P",
        help="one generator per process, histograms merged (default 1; with --dask and no "
        "scheduler, the LocalCluster's workers: one per CPU core)",
    )
    load.add_argument(
        "--dask",
        action="store_true",
        help="one generator per worker of a Dask cluster (needs the dask extra; see "
        "docs/distributed.md)",
    )
    load.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="with --dask: the scheduler (default $DASK_SCHEDULER_ADDRESS, else a LocalCluster)",
    )
    load.add_argument(
        "--timeout",
        type=duration_s,
        default=DEFAULT_TIMEOUT_S,
        metavar="TIME",
        help=f"limit on one request (default {DEFAULT_TIMEOUT_S:g}s)",
    )
    load.add_argument("--no-uvloop", action="store_true", help="use asyncio's own event loop")
    load.add_argument("--json", metavar="FILE", help="write the whole report as JSON")
    load.add_argument(
        "--csv",
        metavar="FILE",
        help="write one row per request, in the order they ended (generator by generator), "
        f"with the columns {', '.join(CSV_HEADER)}; sent_ms and due_ms count from the start, "
        "and due_ms and latency_corrected_ms are blank in the closed model, which has no due "
        "times",
    )
    load.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write the report with its charts as one HTML file (needs the html extra)",
    )
    add_tls_options(parser, keepalive=False)
    server = parser.add_argument_group("bundled server (when no target is given)")
    server.add_argument(
        "--latency",
        type=arg_type(lambda text: parse_duration_ms(text, name="latency")),
        metavar="TIME",
        help="mean injected latency, e.g. 50ms",
    )
    server.add_argument(
        "--jitter",
        type=arg_type(lambda text: parse_duration_ms(text, name="jitter")),
        metavar="TIME",
        help="spread of the latency",
    )
    server.add_argument("--distribution", choices=DISTRIBUTIONS, help="shape of the latency")
    server.add_argument(
        "--error-rate",
        type=arg_type(lambda text: parse_fraction(text, name="error-rate")),
        metavar="FRACTION",
        help="fraction answered 5xx",
    )
    server.add_argument("--faults", type=arg_type(parse_faults), help="e.g. hang=0.01,reset=0.01")
    server.add_argument("--seed", type=int, default=None, help="seed for the server's draws")


def read_targets(target: str) -> tuple[str, ...]:
    """One URL, or the URLs of a file or of stdin (`-`), read like every URL list."""
    from fetcher.errors import FetcherError
    from fetcher.urls import read_urls, url_problem

    if "://" in target:
        problem = url_problem(target)
        if problem:
            raise FetcherError(f"{problem}: {target[:200]!r}")
        return (target,)
    if target != "-" and not os.path.exists(target):
        raise FetcherError(f"{target!r} is neither an http(s) URL nor a file of URLs")
    return tuple(read_urls(target))


def build_config(args: argparse.Namespace, urls: tuple[str, ...]) -> LoadConfig:
    """The library's settings from the flags; bad combinations become a FetcherError."""
    from fetcher.config import default_processes
    from fetcher.errors import FetcherError
    from fetcher.load import LoadConfig

    if args.scheduler and not args.dask:
        raise FetcherError("--scheduler names the Dask scheduler of --dask; add --dask")
    if args.dask:
        from fetcher.cluster import require_distributed

        require_distributed("fetcher load --dask")
    default_concurrency = DEFAULT_CONCURRENCY if args.rate is None else DEFAULT_OPEN_CONCURRENCY
    try:
        return LoadConfig(
            urls=urls,
            rate=args.rate,
            concurrency=args.concurrency or default_concurrency,
            duration_s=args.duration,
            requests=args.requests,
            client=args.client,
            pipeline=args.pipeline,
            processes=args.processes or (default_processes() if args.dask else 1),
            timeout_s=args.timeout,
            csv_path=args.csv,
            use_uvloop=not args.no_uvloop,
            tls=tls_from_args(args),
            dask=args.dask,
            scheduler=args.scheduler,
        ).bounded
    except ValueError as error:
        raise FetcherError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """Run the load, print the report, write the files asked for."""
    from contextlib import ExitStack

    from fetcher.load import csv_rows, report
    from fetcher.render.load import render

    if args.html:
        from fetcher.render.html import require_html

        require_html(args.html)
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
        data = report.to_json(result, server.stats() if server is not None else None)
    stopped_by = None
    if result.interrupted:
        from fetcher.load.processes import stop_signal

        stopped_by = signal.Signals(stop_signal())
        data["stopped_by"] = stopped_by.name
    # The files first: a report cut short (a closed pipe, a second Ctrl-C) must not lose them.
    if args.json:
        report.write_json(data, args.json)
    csv_failure = None
    if args.csv:
        csv_failure = csv_rows.keep_csv(result.csv_parts, args.csv, result.csv_failure)
    if args.html:
        from fetcher.render.html import load_data, load_page, write

        write(args.html, load_page(load_data(data)))
    render(data)
    if csv_failure is not None:
        stopped = "the run stopped there; " if result.csv_failure is not None else ""
        print(
            f"fetcher load: error: {csv_failure}; {stopped}no CSV was kept (the report is whole)",
            file=sys.stderr,
        )
    if stopped_by is not None:
        return exits.interrupted(stopped_by)
    if csv_failure is not None:
        return exits.FAILED
    if result.requests and not data["responses"]:
        from fetcher.load.verdict import error_counts

        errors = error_counts(data["errors"])
        print(f"fetcher load: no request got a response ({errors})", file=sys.stderr)
        return exits.FAILED
    return exits.OK


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
    how = f"{config.rate:g}/s" if config.rate is not None else f"{config.connections} connections"
    if config.pipeline > 1:
        how += f", {config.pipeline} requests pipelined on each connection"
    more = len(config.urls) - 1
    others = f" and {more} more URL{'s' if more > 1 else ''}" if more else ""
    print(
        f"fetcher load: {config.model} model, {how}, up to {bound} @ {config.urls[0]}{others}",
        file=sys.stderr,
        flush=True,
    )


def _load(config: LoadConfig) -> LoadResult:
    """Run the load with the live display on stderr when it is a terminal."""
    from fetcher.load import run_load
    from fetcher.render.load import live_display

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
        faults=None if args.faults is None else dict(args.faults),
        seed=args.seed,
        uvloop=importlib.util.find_spec("uvloop") is not None,
    )
    try:
        with settings as server:
            yield server
    except LaunchError as error:
        raise FetcherError(f"the bundled server did not start: {error}") from None
