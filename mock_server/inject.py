"""Injected behaviour around each API handler: rate limit, latency, errors and faults, counted.

A plain wrapper rather than an aiohttp middleware: with no middleware aiohttp skips building a
handler chain for every request, which keeps the server close to a bare app's speed.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web

from mock_server.behaviour import (
    ERROR_STATUSES,
    HANG_MS,
    SLOW_BODY_CHUNKS,
    SLOW_BODY_MS,
    Behaviour,
    choose_fault,
    sample_latency_ms,
)
from mock_server.params import ParamError
from mock_server.responses import bad_request, json_response
from mock_server.state import ServerState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LATENCY_HEADER = "X-Injected-Latency-Ms"
# Faults that break the connection: the client never sees a status.
CONNECTION_FAULTS = frozenset({"reset", "empty", "hang", "malformed"})


def measured(state: ServerState, handler: Handler) -> Handler:
    """`handler` counted in /stats, with the behaviour the server and the query ask for."""

    async def run(request: web.Request) -> web.StreamResponse:
        stats = state.stats
        stats.enter(request.path)
        stats.connection(request.transport)
        status: int | None = 500
        fault: str | None = None
        try:
            behaviour = state.behaviour
            if request.query_string:
                behaviour = behaviour.with_query(request.query)
            if behaviour.inert:
                response = await handler(request)
            elif (limited := _rate_limited(state, behaviour)) is not None:
                response = limited
            else:
                rng = state.rng_for(request)
                # Chosen here, so a hang the client gives up on still counts as a hang.
                fault = choose_fault(rng, behaviour)
                response = await _misbehave(request, handler, behaviour, rng, fault)
            status = None if fault in CONNECTION_FAULTS else response.status
            return response
        except ParamError as error:
            status = 400
            return bad_request(error)
        except asyncio.CancelledError:
            # The client went away (or the server is stopping) before an answer.
            status = None
            raise
        finally:
            stats.leave(status, fault)

    return run


def _rate_limited(state: ServerState, behaviour: Behaviour) -> web.Response | None:
    """A 429 saying, in whole seconds, when to come back; None within the limit."""
    if behaviour.rate_limit <= 0:
        return None
    wait_s = state.bucket(behaviour.rate_limit).take()
    if wait_s <= 0:
        return None
    retry_after_s = max(1, int(wait_s + 0.999))
    body = {"error": "rate limit exceeded", "retry_after_s": retry_after_s}
    return json_response(body, status=429, **{"Retry-After": str(retry_after_s)})


async def _misbehave(
    request: web.Request,
    handler: Handler,
    behaviour: Behaviour,
    rng: random.Random,
    fault: str | None,
) -> web.StreamResponse:
    """Wait the drawn latency, then answer, fail or break the connection as `fault` says."""
    latency_ms = sample_latency_ms(rng, behaviour)
    if latency_ms > 0:
        await asyncio.sleep(latency_ms / 1000)
    if fault == "error":
        return _server_error(rng)
    if fault == "hang":
        # Never answer; handler cancellation ends this when the client gives up.
        await asyncio.sleep(HANG_MS / 1000)
    if fault in CONNECTION_FAULTS:
        _break_connection(request, fault)
        return web.Response()
    response = await handler(request)
    if not response.prepared:
        # What was drawn, so a client can set what it observed against what was injected.
        response.headers[LATENCY_HEADER] = f"{latency_ms:.3f}"
    if fault == "slow":
        response = await _send_slowly(request, response)
    return response


def _server_error(rng: random.Random) -> web.Response:
    """An injected 500, 502 or 503."""
    code = rng.choice(ERROR_STATUSES)
    return json_response({"error": "injected server error", "status": code}, code)


def _break_connection(request: web.Request, fault: str | None) -> None:
    """Reset, close, or answer with a broken chunked body, as the fault says."""
    transport = request.transport
    if transport is None:
        return
    if fault == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 makes close() send RST instead of FIN: a connection reset by peer.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return
    if fault == "malformed":
        transport.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nbroken\r\n")
    transport.close()


async def _send_slowly(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Send the handler's body in chunks spread over SLOW_BODY_MS."""
    if not isinstance(response, web.Response) or response.body is None:
        return response
    body = bytes(response.body)  # type: ignore[arg-type]
    slow = web.StreamResponse(status=response.status, headers=response.headers)
    slow.content_length = len(body)
    await slow.prepare(request)
    step = max(1, -(-len(body) // SLOW_BODY_CHUNKS))
    for start in range(0, len(body), step):
        await asyncio.sleep(SLOW_BODY_MS / 1000 / SLOW_BODY_CHUNKS)
        await slow.write(body[start : start + step])
    await slow.write_eof()
    return slow
