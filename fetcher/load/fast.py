"""`fetcher load --client fast`: HTTP/1.1 GETs on raw asyncio protocols, parsed by httptools.

A load generator must not be the bottleneck, and a general-purpose client (aiohttp, httpx)
spends most of its ~40 µs per request on what a load test does not need: URL handling, header
objects, cookie jars, response wrappers. This client keeps only what a load test does:

- each URL's request bytes are built once, before the run;
- one `asyncio.Protocol` per connection, fed to llhttp (through httptools, the parser uvicorn
  uses), which calls back with the status, the body's chunks and the end of the message;
- keep-alive connections in a pool capped at the connection count; a response that says
  `Connection: close` (or HTTP/1.0 without keep-alive) closes its connection after it;
- optional pipelining: up to `pipeline` requests written on a connection before the first
  answers (off by default, and labelled wherever a run reports it).

What it does not do, on purpose: HTTP/2, redirects (a 3xx is counted as its status, never
followed), cookies, decompression (bytes are counted as they came over the wire). Timeouts are
a watchdog's, as for the other clients: a request timed out drops its connection, whose state
is then unknown. Failures raise the exceptions `fetcher.policy.classify` maps: the operating
system's for connect and reset, `RemoteDisconnected` for a connection closed before its answer,
`httptools.HttpParserError` for an answer that does not parse.

`FastClient` serves the generator's workers through `send` (URLs on several origins); to one
origin, `fetcher.load.driven` drives the same `Connection`s from their callbacks instead.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

import httptools

USER_AGENT = "fetcher-load"
# Makes the run's SSL context, called on the first https connection.
TlsContext = Callable[[], ssl.SSLContext]
# Connections being opened at once, at most. When the target stalls, the open model keeps
# sending and would open a connection for every request due meanwhile: hundreds of connects at
# once overflow the server's listen backlog, and its SYNs are retried a second later. Requests
# past this many (a quarter of a default listen backlog of 511) wait for the next connection to
# open or to come free, whichever is first.
MAX_OPENING = 128


class Target:
    """One URL as the fast client sends it: where to connect, and the request's bytes."""

    __slots__ = ("host", "origin", "port", "request", "tls", "url")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.origin = (self.tls, self.host, self.port)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        default_port = parts.port is None or parts.port == (443 if self.tls else 80)
        host = parts.hostname if default_port else f"{parts.hostname}:{self.port}"
        if ":" in parts.hostname:  # an IPv6 literal goes back in brackets
            host = f"[{parts.hostname}]" if default_port else f"[{parts.hostname}]:{self.port}"
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\n\r\n"
        ).encode("latin-1")

    def __str__(self) -> str:
        return self.url


class Waiter(Protocol):
    """What waits on a request's answer: a future, or `fetcher.load.driven`'s request."""

    def done(self) -> bool: ...

    def set_result(self, result: tuple[int, int], /) -> None: ...

    def set_exception(self, exc: BaseException, /) -> None: ...


class Pool(Protocol):
    """What keeps connections: told when one closes."""

    def forget(self, connection: Connection, /) -> None: ...


class Connection(asyncio.Protocol):
    """One keep-alive connection: requests written in order, answers matched to them in order."""

    def __init__(self, pool: Pool, origin: tuple[bool, str, int]) -> None:
        self.pool = pool
        self.origin = origin
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[Waiter] = deque()
        self.nbytes = 0
        self.closed = False
        # Headers seen, and whether the body's end is only known when the server closes.
        self.in_body = False
        self.until_eof = True

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.waiters and self.in_body and self.until_eof:
            self.on_message_complete()  # a body that ends where the connection ends
        if isinstance(exc, OSError):  # a reset, as the operating system reported it
            self._fail(exc)
        else:
            self._fail(closed_first())

    # httptools' side

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) in (14, 17) and name.lower() in (b"content-length", b"transfer-encoding"):
            self.until_eof = False

    def on_headers_complete(self) -> None:
        self.in_body = True
        status = self.parser.get_status_code()
        if status < 200 or status in (204, 304):
            self.until_eof = False

    def on_body(self, body: bytes) -> None:
        self.nbytes += len(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue): the real one follows
            self.nbytes, self.in_body, self.until_eof = 0, False, True
            return
        nbytes, self.nbytes, self.in_body, self.until_eof = self.nbytes, 0, False, True
        if not self.parser.should_keep_alive():
            self.close()
        if self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result((status, nbytes))

    # the pool's side

    def close(self) -> None:
        """Close now; requests still waiting on this connection fail as disconnected."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once: its state is unknown (a request on it timed out)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: BaseException) -> None:
        self.abort()
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(exc)


class FastClient:
    """A pool of at most `connections` keep-alive connections behind `send(target)`."""

    def __init__(self, connections: int, pipeline: int, tls: TlsContext) -> None:
        self.connections = connections
        self.pipeline = pipeline
        # Made on the first https connection: loading a CA bundle costs ~0.2 s of CPU, which a
        # run of plain-http targets need not pay.
        self.tls = functools.cache(tls)
        self.loop = asyncio.get_running_loop()
        self.ready: dict[tuple[bool, str, int], deque[Connection]] = {}
        self.opened: set[Connection] = set()
        self.opening = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def send(self, target: Target) -> tuple[int, int]:
        """GET `target`: (status, body bytes); raises what `classify` maps on failure."""
        connection = self._take(target.origin) or await self._open(target)
        waiter: asyncio.Future[tuple[int, int]] = self.loop.create_future()
        connection.waiters.append(waiter)
        connection.transport.write(target.request)  # type: ignore[union-attr]
        if len(connection.waiters) < self.pipeline:
            self.ready[target.origin].append(connection)
        try:
            result = await waiter
        except asyncio.CancelledError:
            connection.abort()  # a late answer would be matched to the next request
            raise
        finally:
            self._release(connection)
        return result

    def _take(self, origin: tuple[bool, str, int]) -> Connection | None:
        """A connection to `origin` with room for one more request, if one is open."""
        ready = self.ready.get(origin)
        while ready:
            connection = ready.popleft()
            if not connection.closed and len(connection.waiters) < self.pipeline:
                return connection
        return None

    async def _open(self, target: Target) -> Connection:
        """A new connection, once the pool has room for one."""
        while len(self.opened) + self.opening >= self.connections or self.opening >= MAX_OPENING:
            if self.opening >= MAX_OPENING or not self._close_idle_elsewhere(target.origin):
                waiter = self.loop.create_future()
                self.waiting.append(waiter)
                await waiter
                connection = self._take(target.origin)
                if connection is not None:
                    return connection
        self.opening += 1
        self.ready.setdefault(target.origin, deque())
        try:
            connection = await connect(self, target, self.tls)
        finally:
            self.opening -= 1
            self._wake_one()
        self.opened.add(connection)
        return connection

    def _close_idle_elsewhere(self, origin: tuple[bool, str, int]) -> bool:
        """Make room by closing an idle connection to another origin; False if there is none."""
        for other, ready in self.ready.items():
            if other != origin:
                for connection in ready:
                    if not connection.waiters:
                        ready.remove(connection)
                        self.forget(connection)
                        connection.close()
                        return True
        return False

    def _release(self, connection: Connection) -> None:
        """A request is done with `connection`: back in the pool if it is still usable."""
        if connection.closed:
            self.forget(connection)
        elif len(connection.waiters) == self.pipeline - 1:
            # It was full, so it is in no ready queue: it has room again.
            self.ready[connection.origin].append(connection)
        self._wake_one()

    def forget(self, connection: Connection) -> None:
        """`connection` is closed: it no longer counts against the cap."""
        if connection in self.opened:
            self.opened.discard(connection)
            self._wake_one()

    def _wake_one(self) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Close every connection."""
        for connection in list(self.opened):
            connection.close()
        self.opened.clear()
        self.ready.clear()


async def connect(pool: Pool, target: Target, tls: TlsContext) -> Connection:
    """A new connection to `target`'s origin, kept by `pool`; RemoteDisconnected if the server
    closed it before it could be used (then `pool.forget` was told of a connection it did not
    hold yet)."""
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(
        lambda: Connection(pool, target.origin),
        target.host,
        target.port,
        ssl=tls() if target.tls else None,
        server_hostname=target.host if target.tls else None,
    )
    if connection.closed:
        raise closed_first()
    return connection


def closed_first() -> http.client.RemoteDisconnected:
    """The failure of a request whose connection the server closed before answering it, which
    `fetcher.policy.classify` calls `disconnected`."""
    return http.client.RemoteDisconnected("the server closed the connection first")


@asynccontextmanager
async def fast_client(connections: int, pipeline: int, tls: TlsContext) -> AsyncIterator[Any]:
    """The fast client's `send`, its connections closed at the end."""
    client = FastClient(connections, pipeline, tls)
    try:
        yield client.send
    finally:
        client.close()
