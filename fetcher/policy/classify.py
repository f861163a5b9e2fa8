"""Turn any exception from requests, aiohttp or httpx into one `ErrorKind`.

The three libraries wrap the same few failures (a refused connect, a reset, a timeout) in
different exception trees, often several layers deep. We look first at each library's own
exception type, then walk the chain of causes for a TLS failure or the operating system's error,
so a reset reads as `connection_reset` and a refused certificate as `tls_certificate` whichever
client saw it.

Each library's mapping lives in a private module of its own (`_requests`, `_aiohttp`, `_httpx`),
imported only when an exception of that library turns up: an exception from aiohttp cannot
exist unless aiohttp was already imported, so classifying never loads a client a run does not use.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib
import socket
import ssl
from collections.abc import Callable, Iterator

from fetcher.models import ErrorKind

# The top-level package an exception class comes from -> the module that maps its exceptions.
_MAPPINGS = {
    "requests": "fetcher.policy._requests",
    "urllib3": "fetcher.policy._requests",
    "aiohttp": "fetcher.policy._aiohttp",
    "httpx": "fetcher.policy._httpx",
    "httptools": "fetcher.policy._httptools",
}


class BodyTooLargeError(Exception):
    """A response body over the configured cap; raised by our own readers."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"response body over the cap of {limit_bytes} bytes")


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then everything it wraps: causes, contexts, urllib3's `reason`, args."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += [arg for arg in current.args if isinstance(arg, BaseException)]
        stack.extend(e for e in reversed(linked) if isinstance(e, BaseException))


# The operating system's view, checked along the chain when the library's own type says too little.
_OS_KINDS: tuple[tuple[type[BaseException], ErrorKind], ...] = (
    (socket.gaierror, ErrorKind.DNS),
    # RemoteDisconnected is a ConnectionResetError, so it must come before it.
    (http.client.RemoteDisconnected, ErrorKind.DISCONNECTED),
    (ConnectionRefusedError, ErrorKind.CONNECTION_REFUSED),
    (ConnectionResetError, ErrorKind.CONNECTION_RESET),
    (BrokenPipeError, ErrorKind.CONNECTION_RESET),
    (http.client.IncompleteRead, ErrorKind.INVALID_RESPONSE),
)


# ssl errors that are no TLS fault: a connection that ends mid-stream is a dropped connection
# (worth a retry), and "want read/write" is non-blocking I/O at work (anyio leaves one in
# httpx's chains as a context, even for a reset).
_NOT_TLS_FAULTS = (
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    ssl.SSLSyscallError,
    ssl.SSLWantReadError,
    ssl.SSLWantWriteError,
)


def classify(exc: BaseException) -> ErrorKind:
    """The kind of failure an exception from any of our HTTP clients stands for."""
    kind = _library_kind(exc)
    if kind is not None and kind not in (ErrorKind.CONNECTION, ErrorKind.OTHER):
        return kind
    tls = tls_failure(exc)
    if tls is not None:
        if isinstance(tls, ssl.SSLCertVerificationError):
            return ErrorKind.TLS_CERTIFICATE
        return ErrorKind.TLS_ERROR
    for cause in causes(exc):
        for os_type, os_kind in _OS_KINDS:
            if isinstance(cause, os_type):
                return os_kind
    return kind or ErrorKind.OTHER


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an exception, if any: a refused certificate first, else any other."""
    # Innermost first: aiohttp's own TLS errors are ssl.SSLError subclasses wrapping the real one.
    chain = [cause for cause in causes(exc) if isinstance(cause, ssl.SSLError)][::-1]
    refused = [cause for cause in chain if isinstance(cause, ssl.SSLCertVerificationError)]
    others = [cause for cause in chain if not isinstance(cause, _NOT_TLS_FAULTS)]
    return (refused or others or [None])[0]


def tls_detail(error: ssl.SSLError) -> str:
    """Why TLS failed, in words, without the wrappers' repeated host and port."""
    message = getattr(error, "verify_message", None)
    if message:
        return f"certificate verify failed: {message}"
    reason = getattr(error, "reason", None)
    return reason.replace("_", " ").lower() if reason else str(error)


def _library_kind(exc: BaseException) -> ErrorKind | None:
    """The kind that the exception's own type tells, if any."""
    if isinstance(exc, BodyTooLargeError):
        return ErrorKind.BODY_TOO_LARGE
    if isinstance(exc, asyncio.CancelledError):
        return ErrorKind.CANCELLED
    mapping = _mapping_for(type(exc))
    if mapping is not None:
        return mapping(exc)
    return _timeout_kind(exc)


def _mapping_for(kind: type[BaseException]) -> Callable[[BaseException], ErrorKind] | None:
    """The mapping of the HTTP library that defined `kind` or one of its bases, if any."""
    for cls in kind.__mro__:
        module = _MAPPINGS.get(cls.__module__.partition(".")[0])
        if module is not None:
            mapping: Callable[[BaseException], ErrorKind] = importlib.import_module(module).kind
            return mapping
    return None


def _timeout_kind(exc: BaseException) -> ErrorKind | None:
    """A bare timeout: our own total-time limit (asyncio.timeout / wait_for) or a socket's."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | socket.timeout):
        return ErrorKind.TIMEOUT
    return None
