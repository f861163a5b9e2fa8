"""Argument types and option groups shared by the commands: bad input is a one-line usage error.

Every default comes from the library's own DEFAULT_* values, and durations are read by the mock
server's parser (`100ms`, `1.5s`), so a flag and the setting it feeds cannot disagree.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from fetcher.cli.tls import add_tls_options, tls_from_args
from fetcher.config import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF_INITIAL_S,
    DEFAULT_BACKOFF_MAX_S,
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_RETRY_AFTER_MAX_S,
    DEFAULT_RETRY_STATUSES,
    DEFAULT_RETRY_TOTAL_S,
    DEFAULT_TOTAL_TIMEOUT_S,
    FetchConfig,
    Limits,
    Retries,
    Timeouts,
    default_processes,
)
from fetcher.errors import FetcherError
from fetcher.strategies import STRATEGIES
from mock_server.params import CapExceeded, ParamError, parse_duration_ms

# A week: longer than any run this tool should be asked to make, short of a typo.
MAX_DURATION_S = 7 * 24 * 3600.0


def int_between(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` up to `high` (no upper limit if None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            limits = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"{text!r} must be {limits}")
        return value

    return parse


positive_int = int_between(1)


def duration_s(text: str) -> float:
    """`100ms`, `1.5s` or a bare number of milliseconds, in seconds, up to a week."""
    try:
        return parse_duration_ms(text, cap_ms=MAX_DURATION_S * 1000) / 1000
    except CapExceeded:
        raise argparse.ArgumentTypeError(
            f"{text!r} is over the cap of a week ({MAX_DURATION_S:.0f} s)"
        ) from None
    except ParamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_float(text: str) -> float:
    """A number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value


def status_list(text: str) -> tuple[int, ...]:
    """Comma-separated HTTP statuses, e.g. `429,503`; empty for none."""
    try:
        codes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of statuses like 429,503"
        ) from None
    if any(not 100 <= code <= 599 for code in codes):
        raise argparse.ArgumentTypeError(f"{text!r}: statuses run from 100 to 599")
    return codes


def strategy_list(text: str) -> list[str]:
    """A comma-separated list of known strategy names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {unknown[0] if unknown else text!r}: choose from "
            + ", ".join(STRATEGIES)
        )
    return names


def require_extras(strategies: list[str]) -> None:
    """Refuse, before any request, a strategy whose extra is not installed (one line, exit 2)."""
    for name in strategies:
        if STRATEGIES[name].extra == "dask":
            from fetcher.cluster import require_distributed

            require_distributed(f"the {name} strategy")


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """Concurrency and timeout flags, shared by compare and fetch."""
    parser.add_argument(
        "-c",
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"threads or asyncio tasks, as load's -c (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=default_processes(),
        help="worker processes for processes and hybrid, and dask's LocalCluster "
        f"(default: one per CPU core, {default_processes()} here)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="dask: the Dask scheduler to run on (default $DASK_SCHEDULER_ADDRESS, else a "
        "LocalCluster started for the run; see docs/distributed.md)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=duration_s,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        metavar="DURATION",
        help=f"per attempt, to connect (default {DEFAULT_CONNECT_TIMEOUT_S:g}s)",
    )
    parser.add_argument(
        "--read-timeout",
        type=duration_s,
        default=DEFAULT_READ_TIMEOUT_S,
        metavar="DURATION",
        help=f"per attempt, between two reads (default {DEFAULT_READ_TIMEOUT_S:g}s)",
    )
    parser.add_argument(
        "--total-timeout",
        type=duration_s,
        default=DEFAULT_TOTAL_TIMEOUT_S,
        metavar="DURATION",
        help=f"per attempt, in all (default {DEFAULT_TOTAL_TIMEOUT_S:g}s)",
    )
    add_policy_options(parser)
    add_tls_options(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars (compare: no legend either)"
    )


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """Retry, rate, per-host and body-size flags."""
    group = parser.add_argument_group("retries and limits")
    group.add_argument(
        "--attempts",
        type=positive_int,
        default=DEFAULT_ATTEMPTS,
        help=f"tries per URL, 1 for no retries (default {DEFAULT_ATTEMPTS})",
    )
    group.add_argument(
        "--backoff",
        type=duration_s,
        default=DEFAULT_BACKOFF_INITIAL_S,
        metavar="DURATION",
        help=f"first backoff, doubled each retry (default {DEFAULT_BACKOFF_INITIAL_S:g}s)",
    )
    group.add_argument(
        "--backoff-max",
        type=duration_s,
        default=DEFAULT_BACKOFF_MAX_S,
        metavar="DURATION",
        help=f"longest backoff (default {DEFAULT_BACKOFF_MAX_S:g}s)",
    )
    group.add_argument(
        "--retry-total",
        type=duration_s,
        default=DEFAULT_RETRY_TOTAL_S,
        metavar="DURATION",
        help=f"all tries of one URL, waits included (default {DEFAULT_RETRY_TOTAL_S:g}s)",
    )
    group.add_argument(
        "--retry-statuses",
        type=status_list,
        default=DEFAULT_RETRY_STATUSES,
        metavar="CODES",
        help="statuses worth a retry (default " + ",".join(map(str, DEFAULT_RETRY_STATUSES)) + ")",
    )
    group.add_argument(
        "--retry-after-max",
        type=duration_s,
        default=DEFAULT_RETRY_AFTER_MAX_S,
        metavar="DURATION",
        help=f"longest Retry-After honoured (default {DEFAULT_RETRY_AFTER_MAX_S:g}s)",
    )
    group.add_argument(
        "--no-jitter", action="store_true", help="wait the full backoff (for comparison only)"
    )
    group.add_argument(
        "--rate", type=positive_float, metavar="PER_S", help="requests per second, in all"
    )
    group.add_argument("--per-host", type=positive_int, metavar="N", help="connections per host")
    group.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help=f"larger bodies become errors (default {DEFAULT_MAX_BODY_BYTES})",
    )


def config_from_args(args: argparse.Namespace) -> FetchConfig:
    """The FetchConfig the fetch options ask for; a value it refuses is a usage error."""
    try:
        return _config_from_args(args)
    except ValueError as error:
        raise FetcherError(f"bad option: {error}") from None


def _config_from_args(args: argparse.Namespace) -> FetchConfig:
    timeouts = Timeouts(
        connect_s=args.connect_timeout, read_s=args.read_timeout, total_s=args.total_timeout
    )
    retries = Retries(
        attempts=args.attempts,
        backoff_initial_s=args.backoff,
        backoff_max_s=args.backoff_max,
        total_s=args.retry_total,
        statuses=args.retry_statuses,
        retry_after_max_s=args.retry_after_max,
        jitter=not args.no_jitter,
    )
    return FetchConfig(
        concurrency=args.concurrency,
        processes=args.processes,
        timeouts=timeouts,
        retries=retries,
        limits=Limits(rate_per_s=args.rate, per_host=args.per_host),
        max_body_bytes=args.max_body_bytes,
        tls=tls_from_args(args),
        keepalive=not args.no_keepalive,
        scheduler=args.scheduler,
    )
