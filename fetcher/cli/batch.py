"""What compare and sweep share: the batch to fetch (a URL file or the embedded default) and
the `--cpu-ms` work per response."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from fetcher.cli.args import duration_s, positive_int
from fetcher.config import TLS, FetchConfig
from fetcher.errors import FetcherError

if TYPE_CHECKING:
    from fetcher.compare.harness import StatsSource


@dataclass(frozen=True)
class Batch:
    """The URLs to fetch, a title for them, and the bundled server when it is the default."""

    urls: list[str]
    title: str
    server: StatsSource | None = None
    latency_s: float | None = None
    # With --tls: the CA bundle that trusts the bundled server's certificate.
    ca_path: str | None = None

    def trusted_by(self, config: FetchConfig) -> FetchConfig:
        """`config`, trusting the bundled server's CA unless --ca-bundle or --insecure chose."""
        if self.ca_path is None or config.tls != TLS():
            return config
        return replace(config, tls=TLS(ca_bundle=self.ca_path))


def add_batch_options(
    parser: argparse.ArgumentParser, default_count: int, default_latency: str
) -> None:
    """The URL file, or the flags that shape the generated batch used in its place."""
    parser.add_argument(
        "urls_file",
        nargs="?",
        metavar="URLS_FILE",
        help="one URL a line ('-' for stdin); default: a generated batch "
        "against the bundled mock server",
    )
    parser.add_argument(
        "--count",
        type=positive_int,
        default=None,
        help=f"URLs in the generated batch (default {default_count})",
    )
    parser.add_argument(
        "--latency",
        type=duration_s,
        default=None,
        metavar="DURATION",
        help=f"latency the bundled server injects (default {default_latency})",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="the bundled server serves HTTPS (a certificate made at start-up, trusted for the "
        "run): shows each strategy's connections and TLS handshakes",
    )


def cpu_ms(text: str) -> float:
    """Milliseconds of CPU work, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 10000")
    return value


def add_cpu_ms(parser: argparse.ArgumentParser) -> None:
    """`--cpu-ms MS`."""
    parser.add_argument(
        "--cpu-ms",
        type=cpu_ms,
        default=0.0,
        metavar="MS",
        help="pure-Python work per response, GIL held, to make the batch CPU-bound (default 0)",
    )


def with_cpu_ms(config: FetchConfig, args: argparse.Namespace) -> FetchConfig:
    """The config the shared options built, with the work per response asked for."""
    return replace(config, cpu_ms=args.cpu_ms)


@contextmanager
def open_batch(
    args: argparse.Namespace, default_count: int, default_latency: str
) -> Iterator[Batch]:
    """The URL file's batch, or a generated one against a bundled mock server run meanwhile."""
    if args.urls_file:
        if args.count is not None or args.latency is not None:
            raise FetcherError(
                "--count and --latency shape the generated batch; drop them with a URL file"
            )
        if args.tls:
            raise FetcherError(
                "--tls serves the generated batch over HTTPS; a URL file's scheme says it already"
            )
        from fetcher.urls import read_urls

        urls = read_urls(args.urls_file)
        yield Batch(urls=urls, title=f"{len(urls)} URLs from {args.urls_file}")
        return
    from mock_server import launch

    count = args.count or default_count
    latency_s = args.latency if args.latency is not None else duration_s(default_latency)
    with launch(latency=f"{latency_s * 1000:g}ms", tls=args.tls) as server:
        over = " over HTTPS" if args.tls else ""
        title = (
            f"{count} requests to the bundled mock server{over} at {latency_s * 1000:g} ms latency"
        )
        if args.cpu_ms:
            title += f", {args.cpu_ms:g} ms of CPU per response"
        urls = [server.url_for(f"/items/{i}") for i in range(count)]
        yield Batch(urls, title, server, latency_s, server.ca_path)
