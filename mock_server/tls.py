"""HTTPS for the mock server: a certificate made at start-up by trustme, or your own.

trustme (a test-CA library) makes a throwaway CA and a certificate it signs for localhost,
127.0.0.1 and ::1; the CA's certificate goes to a file that clients take as their CA bundle. The
server speaks HTTP/1.1 only (aiohttp's server has no HTTP/2), and says so in ALPN.

A handshake that never completes (the client refused our certificate, spoke plain HTTP, or hung
up) carries no request, so only the SSL object sees it: `count_handshakes` sets the context's
`sslobject_class`, which asyncio's and uvloop's TLS transports both instantiate per connection.
The handshakes that do complete are counted with their connection, in `ServerStats.connection`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass

# What the certificate made at start-up is valid for: every name loopback goes by.
IDENTITIES = ("localhost", "127.0.0.1", "::1")
CA_FILE = "ca.pem"


class TLSSetupError(Exception):
    """The server cannot serve HTTPS as asked; the message says why, in one line."""


@dataclass(frozen=True)
class ServerTLS:
    """The server's TLS context and, when we made the certificate, the CA bundle that trusts it."""

    context: ssl.SSLContext
    ca_path: str | None = None


def made_now(directory: str) -> ServerTLS:
    """A certificate for loopback from a CA made now; the CA's bundle is written to `directory`."""
    try:
        import trustme
    except ImportError:
        raise TLSSetupError(
            "--tls needs trustme to make a certificate: in the checkout, pip install -e '.[tls]' "
            "(or give your own with --tls-cert)"
        ) from None
    ca = trustme.CA()
    ca_path = os.path.join(directory, CA_FILE)
    ca.cert_pem.write_to_path(ca_path)
    context = _server_context()
    ca.issue_cert(*IDENTITIES).configure_cert(context)
    return ServerTLS(context, ca_path)


def from_files(cert_path: str, key_path: str | None) -> ServerTLS:
    """Your own certificate chain and key, as PEM files (the key may be in the chain's file)."""
    context = _server_context()
    try:
        context.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "reason", None) or error.strerror or str(error)
        raise TLSSetupError(f"cannot use --tls-cert {cert_path}: {reason}") from None
    return ServerTLS(context)


def _server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # A client that offers h2 must hear that this server speaks HTTP/1.1 only.
    context.set_alpn_protocols(["http/1.1"])
    return context


def count_handshakes(
    context: ssl.SSLContext, started: Callable[[], None], completed: Callable[[], None]
) -> None:
    """Call `started` when a TLS handshake begins on `context`, `completed` when it succeeds.

    A failed handshake is often never raised on our side (the client aborts, and the transport
    just sees the connection end), so the failures are what began and did not complete.
    """

    class CountedSSLObject(ssl.SSLObject):
        """An SSLObject that reports the start and the success of its handshake."""

        _begun = False

        def do_handshake(self) -> None:
            # Called again each time more of the handshake arrives, until it is done.
            if not self._begun:
                self._begun = True
                started()
            super().do_handshake()  # SSLWantReadError until the handshake is complete
            completed()

    context.sslobject_class = CountedSSLObject
