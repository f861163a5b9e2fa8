"""The endpoints and their responses. A bad parameter raises ParamError; `inject.measured` makes
it a 400."""

from __future__ import annotations

import asyncio
import functools
import json
import random
from typing import Any

from aiohttp import web

from mock_server.params import (
    MAX_BYTES,
    MAX_DELAY_MS,
    CapExceeded,
    ParamError,
    parse_count,
    parse_duration_ms,
    parse_seed,
    parse_weighted_codes,
)
from mock_server.state import STATE

MAX_ITEM_ID = 10**18
MAX_REDIRECTS = 100
MAX_DRIP_CHUNKS = 1_000

_TAGS = ("new", "sale", "eco", "bulk", "gift", "limited", "refurb", "import")


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    """A compact JSON response."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


def bad_request(error: ParamError) -> web.Response:
    """The 400 every malformed parameter gets; one over a cap also says the cap."""
    body: dict[str, Any] = {"error": str(error)}
    if isinstance(error, CapExceeded):
        body.update(cap=error.cap, unit=error.unit)
    return json_response(body, status=400)


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


@functools.lru_cache(maxsize=8192)
def item_body_for(text: str) -> bytes:
    """The record for an id as written in the path; cached by text, the hottest path we serve."""
    return item_body(parse_count(text, name="item id", cap=MAX_ITEM_ID, unit=""))


async def items(request: web.Request) -> web.Response:
    """GET /items/{id}: one record."""
    body = item_body_for(request.match_info["id"])
    return web.Response(body=body, content_type="application/json")


async def delay(request: web.Request) -> web.Response:
    """GET /delay/{duration}: answer after that long (capped)."""
    delay_ms = parse_duration_ms(request.match_info["duration"], name="delay")
    await asyncio.sleep(delay_ms / 1000)
    return json_response({"delay_ms": delay_ms, "cap_ms": MAX_DELAY_MS})


async def status(request: web.Request) -> web.Response:
    """GET /status/{codes}: answer with a status drawn from a weighted list."""
    codes, weights = zip(*parse_weighted_codes(request.match_info["codes"]), strict=True)
    code = request.app[STATE].rng_for(request).choices(codes, weights)[0]
    headers = {"Retry-After": "1"} if code in (429, 503) else {}
    if 300 <= code < 400:
        headers["Location"] = "/items/0"
    return json_response({"status": code}, code, **headers)


async def random_bytes(request: web.Request) -> web.Response:
    """GET /bytes/{n}: n random bytes (capped), the same for the same seed (default: n)."""
    nbytes = parse_count(request.match_info["n"], name="byte count", cap=MAX_BYTES, unit="bytes")
    seed_text = request.query.get("seed")
    server_seed = request.app[STATE].seed
    if seed_text is not None:
        seed = parse_seed(seed_text)
    else:
        seed = nbytes if server_seed is None else server_seed
    body = random.Random(seed).randbytes(nbytes)
    return web.Response(body=body, content_type="application/octet-stream")


def _drip_params(query: Any) -> tuple[int, float, int]:
    """Read and cap /drip's numbytes, duration and chunks."""
    numbytes = parse_count(
        query.get("numbytes", "10"), name="numbytes", cap=MAX_BYTES, unit="bytes"
    )
    duration_ms = parse_duration_ms(query.get("duration", "2s"), name="drip duration")
    chunks_text = query.get("chunks")
    if chunks_text is None:
        return numbytes, duration_ms, max(1, min(numbytes, 10))
    chunks = parse_count(chunks_text, name="chunks", cap=MAX_DRIP_CHUNKS, unit="chunks")
    if chunks < 1:
        raise ParamError("bad chunks '0': send at least one chunk")
    return numbytes, duration_ms, chunks


async def drip(request: web.Request) -> web.StreamResponse:
    """GET /drip?numbytes=10&duration=2s&chunks=10: a body sent slowly, one chunk per interval."""
    numbytes, duration_ms, chunks = _drip_params(request.query)
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = numbytes
    await response.prepare(request)
    for i in range(chunks):
        await asyncio.sleep(duration_ms / 1000 / chunks)
        await response.write(b"*" * (numbytes // chunks + (1 if i < numbytes % chunks else 0)))
    await response.write_eof()
    return response


async def redirect(request: web.Request) -> web.Response:
    """GET /redirect/{n}: n redirects, then /items/0."""
    n = parse_count(
        request.match_info["n"], name="redirect count", cap=MAX_REDIRECTS, unit="redirects"
    )
    if n < 1:
        raise ParamError("bad redirect count '0': ask for at least one redirect")
    location = f"/redirect/{n - 1}" if n > 1 else "/items/0"
    return json_response({"redirect_to": location}, 302, Location=location)


async def redirect_loop(request: web.Request) -> web.Response:
    """GET /redirect-loop: a redirect to itself, forever."""
    return json_response({"redirect_to": "/redirect-loop"}, 302, Location="/redirect-loop")


async def not_found(request: web.Request) -> web.Response:
    """Any other GET: a JSON 404 that /stats counts."""
    return json_response({"error": f"no such endpoint: {request.path}"}, 404)


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
