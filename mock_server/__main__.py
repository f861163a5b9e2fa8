"""`mock-server` / `python -m mock_server`: run the mock API until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from mock_server.behaviour import DEFAULT_DISTRIBUTION, DISTRIBUTIONS
from mock_server.params import (
    arg_type,
    parse_duration_ms,
    parse_faults,
    parse_fraction,
    parse_rate_limit,
)

# Exit statuses: 2 for a bad command line (argparse's) or a certificate it cannot use, 1 when the
# address cannot be bound.
EXIT_USAGE = 2
EXIT_CANNOT_LISTEN = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (exit 2), not the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _port(text: str) -> int:
    """A TCP port number, 0 meaning any free one."""
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"bad port {text!r}: use 0-65535 (0 picks a free one)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every behaviour flag can be overridden per request by a query parameter."""
    parser = _Parser(
        prog="mock-server",
        description="A local API with injected latency and faults, for measuring HTTP clients.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port (default 8080); 0 picks a free one"
    )
    parser.add_argument(
        "--latency",
        type=arg_type(lambda v: parse_duration_ms(v, name="latency")),
        default=0.0,
        help="mean injected latency: 100ms, 1.5s or milliseconds",
    )
    parser.add_argument(
        "--jitter",
        type=arg_type(lambda v: parse_duration_ms(v, name="jitter")),
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
        type=arg_type(lambda v: parse_fraction(v, name="error-rate")),
        default=0.0,
        help="fraction of requests answered 500/502/503",
    )
    parser.add_argument(
        "--rate-limit",
        type=arg_type(parse_rate_limit),
        default=0.0,
        help="requests/s; beyond it 429 with Retry-After (0: no limit)",
    )
    parser.add_argument(
        "--faults",
        type=arg_type(parse_faults),
        default=(),
        help="e.g. reset=0.01,empty=0.01,hang=0.01,slow=0.02,malformed=0.01",
    )
    tls = parser.add_argument_group("HTTPS (HTTP/1.1 only)")
    tls.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate made now for localhost, 127.0.0.1 and ::1; "
        "prints the path of the CA bundle that trusts it",
    )
    tls.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate chain")
    tls.add_argument("--tls-key", metavar="PEM", help="its private key, if not in --tls-cert")
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="run on uvloop (in the checkout: pip install -e '.[uvloop]')",
    )
    # Used by mock_server.launch(): exit when the parent closes our stdin, even if it was killed.
    parser.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mock-server`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tls_key is not None and args.tls_cert is None:
        parser.error("--tls-key needs --tls-cert")
    # Here, after parsing: `mock-server --help` and a bad flag answer without loading aiohttp.
    from mock_server.server import ListenError, event_loop_runner, raise_fd_limit, serve
    from mock_server.tls import TLSSetupError

    raise_fd_limit()
    try:
        run = event_loop_runner(args.uvloop)
    except ImportError:
        print(
            "mock-server: --uvloop needs uvloop: in the checkout, pip install -e '.[uvloop]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        run(serve(args))
    except ListenError as error:
        print(f"mock-server: {error}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    except TLSSetupError as error:
        print(f"mock-server: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # Ctrl-C before the signal handlers were in place: stop just as quietly.
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
