"""requests' and urllib3's exceptions as ErrorKinds (see `fetcher.policy.classify`)."""

from __future__ import annotations

import requests
import urllib3

from fetcher.models import ErrorKind


def kind(exc: BaseException) -> ErrorKind:
    """The kind a requests or urllib3 exception stands for."""
    if isinstance(exc, requests.RequestException):
        return _requests_kind(exc)
    return _urllib3_kind(exc)


def _requests_kind(exc: requests.RequestException) -> ErrorKind:
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


def _urllib3_kind(exc: BaseException) -> ErrorKind:
    """urllib3's own errors, met when we read the body through `response.raw` ourselves."""
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
