"""One SSL context per run: which certificates to trust, built once and shared by every connection.

Left alone, the three clients disagree: requests and httpx trust certifi's bundle, aiohttp the
operating system's; httpx reads $SSL_CERT_FILE only when it trusts the environment, requests
never does. And requests builds a fresh context for every new connection, loading the whole
bundle into it (about 20 ms of CPU with certifi's 140 certificates). So every strategy takes
this one context at the start of a run (once per process for the multi-process ones: a context
cannot be pickled) and hands it to its client. It is built once per process for each trust
source and kept while the bundle's file is unchanged: a program that fetches batch after batch
loads the bundle once, and `fetcher fetch` loads it while checking its flags, before the
batch's clock starts, not again inside it.

Where the trusted certificates come from, first found wins:
    TLS(ca_bundle=PATH)      --ca-bundle PATH
    $SSL_CERT_FILE           a PEM file, as OpenSSL, curl and httpx read it
    $SSL_CERT_DIR            a directory of hashed certificates
    certifi                  Mozilla's bundle, which requests and httpx use by default
"""

from __future__ import annotations

import functools
import os
import ssl
from dataclasses import dataclass

import certifi

from fetcher.config import TLS

CERT_FILE_ENV = "SSL_CERT_FILE"
CERT_DIR_ENV = "SSL_CERT_DIR"


@dataclass(frozen=True)
class TrustSource:
    """Where a run's trusted certificates come from: a file or a directory, and who said so."""

    cafile: str | None
    capath: str | None
    origin: str

    def __str__(self) -> str:
        return f"{self.cafile or self.capath} (from {self.origin})"


def trust_source(tls: TLS) -> TrustSource:
    """The CA bundle a run trusts: --ca-bundle, else $SSL_CERT_FILE or _DIR, else certifi."""
    if tls.ca_bundle is not None:
        return TrustSource(tls.ca_bundle, None, "--ca-bundle")
    if os.environ.get(CERT_FILE_ENV):
        return TrustSource(os.environ[CERT_FILE_ENV], None, CERT_FILE_ENV)
    if os.environ.get(CERT_DIR_ENV):
        return TrustSource(None, os.environ[CERT_DIR_ENV], CERT_DIR_ENV)
    return TrustSource(certifi.where(), None, "certifi")


def client_context(tls: TLS) -> ssl.SSLContext:
    """The context every connection of a run shares; ValueError when the bundle cannot be loaded."""
    if not tls.verify:
        # No trust store to load: nothing will be checked against one.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    source = trust_source(tls)
    return _verifying_context(source, _stamp(source.cafile or source.capath or ""))


def _stamp(path: str) -> tuple[int, int, int] | None:
    """What changes when a bundle is rewritten or replaced: its inode, size and modification
    time; None when it cannot be read (loading it then raises the error to report)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _verifying_context(source: TrustSource, stamp: tuple[int, int, int] | None) -> ssl.SSLContext:
    """A context trusting `source`, built once for each `stamp` of its file (a failure is not
    kept: lru_cache keeps only what returns)."""
    try:
        # Verification on, host names checked, TLS 1.2 at least: the standard library's defaults.
        return ssl.create_default_context(cafile=source.cafile, capath=source.capath)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "reason", None)  # e.g. NO_CERTIFICATE_OR_CRL_FOUND: not a PEM file
        reason = reason.replace("_", " ").lower() if reason else error.strerror or str(error)
        raise ValueError(f"cannot load the CA bundle {source}: {reason}") from None
