"""aiohttp's exceptions as ErrorKinds (see `fetcher.policy.classify`)."""

from __future__ import annotations

import aiohttp

from fetcher.models import ErrorKind


def kind(exc: BaseException) -> ErrorKind:
    """The kind an aiohttp exception stands for."""
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
