"""httpx's exceptions as ErrorKinds (see `fetcher.policy.classify`)."""

from __future__ import annotations

import httpx

from fetcher.models import ErrorKind


def kind(exc: BaseException) -> ErrorKind:
    """The kind an httpx exception stands for."""
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
