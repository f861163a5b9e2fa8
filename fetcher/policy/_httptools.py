"""httptools' exceptions as ErrorKinds (see `fetcher.policy.classify`): the fast load client's."""

from __future__ import annotations

import httptools

from fetcher.models import ErrorKind


def kind(exc: BaseException) -> ErrorKind:
    """The kind an httptools exception stands for: an answer that does not parse."""
    if isinstance(exc, httptools.HttpParserError):
        return ErrorKind.INVALID_RESPONSE
    return ErrorKind.OTHER
