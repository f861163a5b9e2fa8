"""The TLS and connection flags of fetch, compare, sweep and load: whom to trust, and keep-alive.

Verification is on unless --insecure says otherwise, and then a warning says so, once. A CA
bundle that cannot be loaded stops the command before any request, in one line.
"""

from __future__ import annotations

import argparse
import sys

from fetcher.config import TLS
from fetcher.errors import FetcherError

INSECURE_WARNING = (
    "warning: --insecure: server certificates are not checked (for a test server only)"
)


def add_tls_options(parser: argparse.ArgumentParser, *, keepalive: bool = True) -> None:
    """--ca-bundle or --insecure, and (with `keepalive`) --no-keepalive."""
    group = parser.add_argument_group("TLS and connections" if keepalive else "TLS")
    trust = group.add_mutually_exclusive_group()
    trust.add_argument(
        "--ca-bundle",
        metavar="PEM",
        help="trust the CA certificates in this file (default: $SSL_CERT_FILE, else certifi's)",
    )
    trust.add_argument(
        "--insecure", action="store_true", help="accept any certificate (a test server only)"
    )
    if keepalive:
        group.add_argument(
            "--no-keepalive",
            action="store_true",
            help="a new connection, and TLS handshake, per request (to see what that costs)",
        )


def tls_from_args(args: argparse.Namespace) -> TLS:
    """The TLS settings the flags ask for; warns on stderr, once, when nothing is verified."""
    # Here, not at the top: building a parser (`--help`) need not load ssl and certifi.
    from fetcher.policy.tls import client_context

    tls = TLS(ca_bundle=args.ca_bundle, verify=not args.insecure)
    if not tls.verify:
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
        return tls
    try:
        # A bad bundle stops the command here, before any request; a good one is loaded now,
        # and clients in this process take the same context (worker processes load their own).
        client_context(tls)
    except ValueError as error:
        raise FetcherError(str(error)) from None
    return tls
