"""Turn any exception from requests, aiohttp or httpx into one `ErrorKind`.

The three libraries wrap the same few failures (a refused connect, a reset, a timeout) in
different exception trees, often several layers deep. We look first at each library's own
exception type, then walk the chain of causes for the operating system's error, so a reset reads
as `connection_reset` whichever client saw it.

Each library's mapping lives in a private module of its own (`_requests`, `_aiohttp`, `_httpx`),
imported only when an exception of that library turns up: an exception from aiohttp cannot
exist unless aiohttp was already imported, so classifying never loads a client a run does not use.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib
import socket
from collections.abc import Callable, Iterator

from fetcher.models import ErrorKind

# The top-level package an exception class comes from -> the module that maps its exceptions.
_MAPPINGS = {
    "requests": "fetcher.policy._requests",
    "urllib3": "fetcher.policy._requests",
    "aiohttp": "fetcher.policy._aiohttp",
    "httpx": "fetcher.policy._httpx",
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
