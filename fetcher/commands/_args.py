"""Argument types shared by the commands: each turns bad input into a one-line usage error."""

from __future__ import annotations

import argparse
import os
import re

from fetcher.config import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF_INITIAL_S,
    DEFAULT_BACKOFF_MAX_S,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RETRY_AFTER_MAX_S,
    DEFAULT_RETRY_STATUSES,
    DEFAULT_RETRY_TOTAL_S,
    FetchConfig,
    Limits,
    Retries,
    Timeouts,
)
from fetcher.errors import FetcherError
from fetcher.strategies import STRATEGIES

# The mock server's duration syntax, parsed here too: importing mock_server would load aiohttp
# and make `fetcher --help` slow.
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$", re.ASCII)


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def duration_s(text: str) -> float:
    """`100ms`, `1.5s` or a bare number of milliseconds, in seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"bad duration {text!r}: write 100ms, 1.5s or a number of milliseconds"
        )
    return float(match.group(1)) * (1.0 if match.group(2) == "s" else 0.001)


def positive_float(text: str) -> float:
    """A number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
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


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """Concurrency and timeout flags, shared by compare and fetch."""
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"threads or asyncio tasks (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="worker processes for the processes strategy (default: CPUs)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=duration_s,
        default=5.0,
        metavar="DURATION",
        help="per attempt, to connect (default 5s)",
    )
    parser.add_argument(
        "--read-timeout",
        type=duration_s,
        default=30.0,
        metavar="DURATION",
        help="per attempt, between two reads (default 30s)",
    )
    parser.add_argument(
        "--total-timeout",
        type=duration_s,
        default=60.0,
        metavar="DURATION",
        help="per attempt, in all (default 60s)",
    )
    add_policy_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


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
    )
