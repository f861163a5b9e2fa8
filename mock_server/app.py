"""The mock API: routes, and the middleware that injects latency, errors, rate limits and faults."""

from __future__ import annotations

import asyncio
import functools
import json
import random
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from mock_server.faults import (
    ERROR_STATUSES,
    HANG_MS,
    MAX_BYTES,
    MAX_DELAY_MS,
    SLOW_BODY_CHUNKS,
    SLOW_BODY_MS,
    Behaviour,
    ParamError,
    TokenBucket,
    choose_fault,
    parse_duration_ms,
    parse_weighted_codes,
    sample_latency_ms,
)
from mock_server.stats import ServerStats

# Paths that report on the server rather than act as the API: never delayed, faulted or counted.
UNMEASURED_PATHS = ("/stats", "/health")
MAX_REDIRECTS = 100
MAX_DRIP_CHUNKS = 1_000

_TAGS = ("new", "sale", "eco", "bulk", "gift", "limited", "refurb", "import")


@dataclass
class ServerState:
    """Everything the handlers share: the default behaviour, the seeded generator and the stats."""

    behaviour: Behaviour
    rng: random.Random
    seed: int | None = None
    stats: ServerStats = field(default_factory=ServerStats)
    buckets: dict[float, TokenBucket] = field(default_factory=dict)

    def bucket(self, rate: float) -> TokenBucket:
        """The token bucket for one rate limit (a request may ask for its own)."""
        if rate not in self.buckets:
            self.buckets[rate] = TokenBucket(rate)
        return self.buckets[rate]


STATE = web.AppKey("state", ServerState)


def create_app(behaviour: Behaviour | None = None, *, seed: int | None = None) -> web.Application:
    """Build the mock API with `behaviour` injected into every request."""
    app = web.Application(middlewares=[inject])
    app[STATE] = ServerState(behaviour or Behaviour(), random.Random(seed), seed)
    app.router.add_get("/items/{id}", items)
    app.router.add_get("/delay/{duration}", delay)
    app.router.add_get("/status/{codes}", status)
    app.router.add_get("/bytes/{n}", random_bytes)
    app.router.add_get("/drip", drip)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/redirect-loop", redirect_loop)
    app.router.add_get("/health", health)
    app.router.add_get("/stats", stats)
    app.router.add_post("/stats/reset", stats_reset)
    return app


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    """A compact JSON response."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


def bad_request(message: str) -> web.Response:
    """The 400 every malformed or over-cap parameter gets."""
    return json_response({"error": message}, status=400)


@web.middleware
async def inject(request: web.Request, handler: Any) -> web.StreamResponse:
    """Count the request, then delay, limit or fault it as its behaviour says."""
    if request.path.startswith(UNMEASURED_PATHS):
        return await handler(request)  # type: ignore[no-any-return]
    state = request.app[STATE]
    state.stats.enter(request.path)
    response: web.StreamResponse | None = None
    fault: str | None = None
    try:
        try:
            behaviour = state.behaviour
            if request.query_string:
                behaviour = behaviour.with_query(request.query)
        except ParamError as error:
            response = bad_request(str(error))
            return response
        fault, response = await _misbehave(request, state, behaviour)
        if response is None:
            response = await handler(request)
        if fault == "slow":
            response = await _send_slowly(request, response)
        return response
    finally:
        status = None if response is None or fault in _CONNECTION_FAULTS else response.status
        state.stats.leave(status, fault)


_CONNECTION_FAULTS = frozenset({"reset", "empty", "hang", "malformed"})


async def _misbehave(
    request: web.Request, state: ServerState, behaviour: Behaviour
) -> tuple[str | None, web.StreamResponse | None]:
    """Apply the rate limit, latency and fault; a response here replaces the handler's."""
    if behaviour.rate_limit > 0:
        wait_s = state.bucket(behaviour.rate_limit).take()
        if wait_s > 0:
            retry_after = str(max(1, int(wait_s + 0.999)))
            body = {"error": "rate limit exceeded", "retry_after_s": int(retry_after)}
            return None, json_response(body, status=429, **{"Retry-After": retry_after})
    fault = choose_fault(state.rng, behaviour)
    latency_ms = sample_latency_ms(state.rng, behaviour)
    if latency_ms > 0:
        await asyncio.sleep(latency_ms / 1000)
    if fault == "error":
        code = state.rng.choice(ERROR_STATUSES)
        return fault, json_response({"error": "injected server error", "status": code}, code)
    if fault == "hang":
        # Never answer; handler cancellation ends this when the client gives up.
        await asyncio.sleep(HANG_MS / 1000)
    if fault in _CONNECTION_FAULTS:
        _break_connection(request, fault)
        return fault, web.Response()
    return fault, None


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


@functools.lru_cache(maxsize=8192)
def item_body(item_id: int) -> bytes:
    """A small, realistic product record, the same for the same id on every run."""
    rng = random.Random(item_id)
    record = {
        "id": item_id,
        "sku": f"SKU-{item_id:08d}",
        "name": f"Item {item_id}",
        "price": {"amount": round(rng.uniform(1, 500), 2), "currency": "EUR"},
        "in_stock": rng.random() > 0.2,
        "quantity": rng.randrange(0, 1000),
        "rating": round(rng.uniform(1, 5), 1),
        "tags": rng.sample(_TAGS, 2),
        "updated_at": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T12:00:00Z",
    }
    return json.dumps(record, separators=(",", ":")).encode()


async def items(request: web.Request) -> web.Response:
    """GET /items/{id}: one record."""
    text = request.match_info["id"]
    if not text.isdigit() or len(text) > 18:
        return bad_request(f"bad item id {text!r}: use a whole number from 0 to 10**18")
    return web.Response(body=item_body(int(text)), content_type="application/json")


async def delay(request: web.Request) -> web.Response:
    """GET /delay/{duration}: answer after that long (capped)."""
    try:
        delay_ms = parse_duration_ms(request.match_info["duration"], name="delay")
    except ParamError as error:
        return bad_request(str(error))
    await asyncio.sleep(delay_ms / 1000)
    return json_response({"delay_ms": delay_ms, "cap_ms": MAX_DELAY_MS})


async def status(request: web.Request) -> web.Response:
    """GET /status/{codes}: answer with a status drawn from a weighted list."""
    try:
        choices = parse_weighted_codes(request.match_info["codes"])
    except ParamError as error:
        return bad_request(str(error))
    codes, weights = zip(*choices, strict=True)
    code = request.app[STATE].rng.choices(codes, weights)[0]
    headers = {"Retry-After": "1"} if code in (429, 503) else {}
    if 300 <= code < 400:
        headers["Location"] = "/items/0"
    return json_response({"status": code}, code, **headers)


def _seed_for(request: web.Request, default: int) -> int:
    """The seed a request asks for, else the server's, else `default`."""
    text = request.query.get("seed")
    if text is None:
        seed = request.app[STATE].seed
        return default if seed is None else seed
    if not text.lstrip("-").isdigit():
        raise ParamError(f"bad seed {text!r}: use a whole number")
    return int(text)


async def random_bytes(request: web.Request) -> web.Response:
    """GET /bytes/{n}: n seeded random bytes (capped)."""
    text = request.match_info["n"]
    if not text.isdigit():
        return bad_request(f"bad byte count {text!r}: use a whole number")
    nbytes = int(text)
    if nbytes > MAX_BYTES:
        return bad_request(f"byte count {nbytes} is over the cap of {MAX_BYTES} bytes")
    try:
        seed = _seed_for(request, nbytes)
    except ParamError as error:
        return bad_request(str(error))
    return web.Response(
        body=random.Random(seed).randbytes(nbytes), content_type="application/octet-stream"
    )


def _drip_params(request: web.Request) -> tuple[int, float, int]:
    """Read and cap /drip's numbytes, duration and chunks."""
    query = request.query
    numbytes_text = query.get("numbytes", "10")
    chunks_text = query.get("chunks", "")
    if not numbytes_text.isdigit() or (chunks_text and not chunks_text.isdigit()):
        raise ParamError("bad drip: numbytes and chunks are whole numbers")
    numbytes = int(numbytes_text)
    if numbytes > MAX_BYTES:
        raise ParamError(f"numbytes {numbytes} is over the cap of {MAX_BYTES} bytes")
    duration_ms = parse_duration_ms(query.get("duration", "2s"), name="drip duration")
    chunks = int(chunks_text) if chunks_text else min(numbytes, 10)
    if not 1 <= chunks <= MAX_DRIP_CHUNKS:
        raise ParamError(f"chunks must be between 1 and {MAX_DRIP_CHUNKS}")
    return numbytes, duration_ms, chunks


async def drip(request: web.Request) -> web.StreamResponse:
    """GET /drip?numbytes=10&duration=2s&chunks=10: a body sent slowly in chunks."""
    try:
        numbytes, duration_ms, chunks = _drip_params(request)
    except ParamError as error:
        return bad_request(str(error))
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = numbytes
    await response.prepare(request)
    sizes = [numbytes // chunks + (1 if i < numbytes % chunks else 0) for i in range(chunks)]
    for size in sizes:
        await asyncio.sleep(duration_ms / 1000 / chunks)
        await response.write(b"*" * size)
    await response.write_eof()
    return response


async def redirect(request: web.Request) -> web.Response:
    """GET /redirect/{n}: n redirects, then /items/0."""
    text = request.match_info["n"]
    if not text.isdigit() or int(text) > MAX_REDIRECTS:
        return bad_request(f"bad redirect count {text!r}: use 0 to {MAX_REDIRECTS}")
    n = int(text)
    location = f"/redirect/{n - 1}" if n > 1 else "/items/0"
    return json_response({"redirect_to": location}, 302, Location=location)


async def redirect_loop(request: web.Request) -> web.Response:
    """GET /redirect-loop: a redirect to itself, forever."""
    return json_response({"redirect_to": "/redirect-loop"}, 302, Location="/redirect-loop")


async def health(request: web.Request) -> web.Response:
    """GET /health."""
    return json_response({"status": "ok"})


async def stats(request: web.Request) -> web.Response:
    """GET /stats: what the server saw since the last reset."""
    return json_response(request.app[STATE].stats.snapshot())


async def stats_reset(request: web.Request) -> web.Response:
    """POST /stats/reset: zero the counters."""
    request.app[STATE].stats.reset()
    return json_response({"reset": True})
