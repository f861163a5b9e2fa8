"""Turn any exception from requests, aiohttp or httpx into one `ErrorKind`.

The three libraries wrap the same few failures (a refused connect, a reset, a timeout) in
different exception trees, often several layers deep. We look first at each library's own
exception type, then walk the chain of causes for the operating system's error, so a reset reads
as `connection_reset` whichever client saw it.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Iterator

import aiohttp
import httpx
import requests
import urllib3

from fetcher.models import ErrorKind


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


def classify(exc: BaseException) -> ErrorKind:
    """The kind of failure an exception from any of our HTTP clients stands for."""
    kind = _library_kind(exc)
    if kind is not None and kind not in (ErrorKind.CONNECTION, ErrorKind.OTHER):
        return kind
    for cause in causes(exc):
        for os_type, os_kind in _OS_KINDS:
            if isinstance(cause, os_type):
                return os_kind
    return kind or ErrorKind.OTHER


def _library_kind(exc: BaseException) -> ErrorKind | None:
    """The kind that the exception's own type tells, if any."""
    if isinstance(exc, BodyTooLargeError):
        return ErrorKind.BODY_TOO_LARGE
    if isinstance(exc, asyncio.CancelledError):
        return ErrorKind.CANCELLED
    return (
        _requests_kind(exc)
        or _urllib3_kind(exc)
        or _aiohttp_kind(exc)
        or _httpx_kind(exc)
        or _timeout_kind(exc)
    )


def _requests_kind(exc: BaseException) -> ErrorKind | None:
    if not isinstance(exc, requests.RequestException):
        return None
    if isinstance(exc, requests.ConnectTimeout):
        return ErrorKind.CONNECT_TIMEOUT
    if isinstance(exc, requests.ReadTimeout):
        return ErrorKind.READ_TIMEOUT
    if isinstance(exc, requests.Timeout):
        return ErrorKind.TIMEOUT
    if isinstance(exc, requests.TooManyRedirects):
        return ErrorKind.TOO_MANY_REDIRECTS
    if isinstance(
        exc,
        requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError
        | requests.exceptions.InvalidHeader,
    ):
        return ErrorKind.INVALID_RESPONSE
    if isinstance(exc, requests.ConnectionError):
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER


def _urllib3_kind(exc: BaseException) -> ErrorKind | None:
    """urllib3's own errors, met when we read the body through `response.raw` ourselves."""
    if not isinstance(exc, urllib3.exceptions.HTTPError):
        return None
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return ErrorKind.CONNECT_TIMEOUT
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return ErrorKind.READ_TIMEOUT
    if isinstance(exc, urllib3.exceptions.DecodeError | urllib3.exceptions.IncompleteRead):
        return ErrorKind.INVALID_RESPONSE
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        # "Connection broken: ...": the cause says whether it was a reset or a short body.
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER


def _aiohttp_kind(exc: BaseException) -> ErrorKind | None:
    if not isinstance(exc, aiohttp.ClientError):
        return None
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ErrorKind.CONNECT_TIMEOUT
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return ErrorKind.READ_TIMEOUT
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, aiohttp.TooManyRedirects):
        return ErrorKind.TOO_MANY_REDIRECTS
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return ErrorKind.DNS
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ErrorKind.DISCONNECTED
    # We never call raise_for_status, so a ClientResponseError is a response that did not parse.
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return ErrorKind.INVALID_RESPONSE
    if isinstance(exc, aiohttp.ClientConnectionError):
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER


def _httpx_kind(exc: BaseException) -> ErrorKind | None:
    if not isinstance(exc, httpx.HTTPError | httpx.TooManyRedirects):
        return None
    if isinstance(exc, httpx.ConnectTimeout):
        return ErrorKind.CONNECT_TIMEOUT
    if isinstance(exc, httpx.ReadTimeout):
        return ErrorKind.READ_TIMEOUT
    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT
    if isinstance(exc, httpx.TooManyRedirects):
        return ErrorKind.TOO_MANY_REDIRECTS
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending a response" in str(exc):
            return ErrorKind.DISCONNECTED
        return ErrorKind.INVALID_RESPONSE
    if isinstance(exc, httpx.DecodingError | httpx.LocalProtocolError):
        return ErrorKind.INVALID_RESPONSE
    if isinstance(exc, httpx.TransportError):
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER


def _timeout_kind(exc: BaseException) -> ErrorKind | None:
    """A bare timeout: our own total-time limit (asyncio.timeout / wait_for) or a socket's."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | socket.timeout):
        return ErrorKind.TIMEOUT
    return None
