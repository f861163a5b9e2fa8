"""The mock API over real sockets: the app runs in this event loop on 127.0.0.1 port 0.

Endpoints, injected behaviour and its query overrides, caps, malformed parameters, faults as a
real client sees them, and /stats under concurrent load. Timings are only ever lower bounds:
a loaded machine makes things slower, never faster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from mock_server import Behaviour, create_app
from mock_server.inject import LATENCY_HEADER
from mock_server.params import MAX_BYTES, MAX_DELAY_MS
from mock_server.responses import MAX_DRIP_CHUNKS, MAX_REDIRECTS, item_body

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start mock apps in this loop (`await serve(Behaviour(...), seed=1)` -> base URL)."""
    runners: list[web.AppRunner] = []

    async def start(behaviour: Behaviour | None = None, seed: int | None = 1) -> str:
        app = create_app(behaviour, seed=seed)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        runners.append(runner)
        # aiohttp's default backlog of 128 would drop the SYNs of a burst of 200 connections.
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def url(serve: Serve) -> str:
    """A mock app with no injected behaviour."""
    return await serve()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """A client with no connection limit and a timeout no test should reach."""
    timeout = aiohttp.ClientTimeout(total=20)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def get_json(client: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    """GET `url` without following redirects: (status, JSON body)."""
    async with client.get(url, allow_redirects=False) as response:
        return response.status, await response.json()


async def stats(client: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """The server's /stats."""
    return (await get_json(client, url + "/stats"))[1]  # type: ignore[no-any-return]


# --- endpoints -----------------------------------------------------------------------------------


async def test_items_are_small_stable_json_records(client: aiohttp.ClientSession, url: str) -> None:
    """/items/{id} answers a realistic record, byte for byte the same for the same id."""
    async with client.get(url + "/items/7") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        body = await response.read()
    record = await (await client.get(url + "/items/7")).json()
    assert body == item_body(7)
    assert record["id"] == 7 and record["sku"] == "SKU-00000007"
    assert {"price", "in_stock", "quantity", "rating", "tags", "updated_at"} <= record.keys()
    assert await (await client.get(url + "/items/8")).read() != body


async def test_items_route_matches_like_aiohttp_would(
    client: aiohttp.ClientSession, url: str
) -> None:
    """Our /items/{id} match unquotes escapes, answers HEAD, and matches one segment only."""
    async with client.get(URL(url + "/items/%31", encoded=True)) as response:
        assert response.status == 200 and await response.read() == item_body(1)
    async with client.head(url + "/items/1") as response:
        assert response.status == 200
    for path in ("/items/", "/items/1/2", "/itemsx/1"):
        assert (await get_json(client, url + path))[0] == 404


async def test_delay_answers_after_the_delay(client: aiohttp.ClientSession, url: str) -> None:
    """/delay/{duration} sleeps that long (a lower bound only) and says so."""
    started = time.perf_counter()
    status, body = await get_json(client, url + "/delay/50ms")
    assert time.perf_counter() - started >= 0.045
    assert (status, body) == (200, {"delay_ms": 50.0, "cap_ms": MAX_DELAY_MS})


async def test_status_draws_from_the_weighted_list(client: aiohttp.ClientSession, url: str) -> None:
    """/status/200:3,503:1 answers both codes, roughly 3 to 1, and 503 carries Retry-After."""
    seen: dict[int, int] = {200: 0, 503: 0}
    for _ in range(200):
        async with client.get(url + "/status/200:3,503:1") as response:
            seen[response.status] += 1
            assert (await response.json())["status"] == response.status
            if response.status == 503:
                assert response.headers["Retry-After"] == "1"
    assert 100 < seen[200] < 190 and seen[503] > 10


async def test_status_with_one_code_and_a_seed_is_reproducible(
    client: aiohttp.ClientSession, url: str
) -> None:
    """A request's own ?seed= makes its draw the same every time; a zero weight never comes up."""
    codes = set()
    for _ in range(5):
        async with client.get(url + "/status/200:1,404:1,500:1?seed=11") as response:
            codes.add(response.status)
    assert len(codes) == 1
    for _ in range(20):
        async with client.get(url + "/status/418:1,500:0") as response:
            assert response.status == 418


async def test_status_redirect_codes_point_somewhere(
    client: aiohttp.ClientSession, url: str
) -> None:
    """A drawn 3xx has a Location, so a client following it ends on a real endpoint."""
    async with client.get(url + "/status/307", allow_redirects=False) as response:
        assert response.status == 307 and response.headers["Location"] == "/items/0"


async def test_bytes_are_seeded_and_sized(client: aiohttp.ClientSession, url: str) -> None:
    """/bytes/{n} gives n bytes, the same for the same seed and different for another."""
    first = await (await client.get(url + "/bytes/1000?seed=5")).read()
    again = await (await client.get(url + "/bytes/1000?seed=5")).read()
    other = await (await client.get(url + "/bytes/1000?seed=6")).read()
    default = await (await client.get(url + "/bytes/1000")).read()
    assert len(first) == 1000 and first == again and first != other
    assert default == await (await client.get(url + "/bytes/1000")).read()
    assert await (await client.get(url + "/bytes/0")).read() == b""


async def test_drip_sends_the_body_in_chunks_over_time(
    client: aiohttp.ClientSession, url: str
) -> None:
    """/drip sends numbytes in separate chunks, taking at least (most of) its duration."""
    started = time.perf_counter()
    chunks = []
    async with client.get(url + "/drip?numbytes=30&duration=300ms&chunks=3") as response:
        assert response.content_length == 30
        async for chunk in response.content.iter_any():
            chunks.append(chunk)
    assert b"".join(chunks) == b"*" * 30
    assert len(chunks) >= 2
    assert time.perf_counter() - started >= 0.25


async def test_drip_with_nothing_to_send_answers_empty(
    client: aiohttp.ClientSession, url: str
) -> None:
    """/drip?numbytes=0 is a valid, empty answer."""
    async with client.get(url + "/drip?numbytes=0&duration=0") as response:
        assert response.status == 200 and await response.read() == b""


async def test_redirects_end_on_an_item(client: aiohttp.ClientSession, url: str) -> None:
    """/redirect/3 redirects three times, then lands on /items/0."""
    async with client.get(url + "/redirect/3") as response:
        assert response.status == 200
        assert len(response.history) == 3
        assert response.url.path == "/items/0"


async def test_redirect_loop_never_ends(client: aiohttp.ClientSession, url: str) -> None:
    """/redirect-loop redirects to itself, so a client gives up."""
    with pytest.raises(aiohttp.TooManyRedirects):
        await client.get(url + "/redirect-loop", max_redirects=5)
    status, body = await get_json(client, url + "/redirect-loop")
    assert status == 302 and body == {"redirect_to": "/redirect-loop"}


async def test_health_is_ok_and_unknown_paths_are_json_404s(
    client: aiohttp.ClientSession, url: str
) -> None:
    """/health answers ok; a path that is not an endpoint is a JSON 404."""
    assert await get_json(client, url + "/health") == (200, {"status": "ok"})
    status, body = await get_json(client, url + "/no/such/thing")
    assert status == 404 and "no such endpoint" in body["error"]


# --- /stats --------------------------------------------------------------------------------------


async def test_stats_count_requests_paths_and_statuses(
    client: aiohttp.ClientSession, url: str
) -> None:
    """/stats counts API requests by path and status, and not /health or /stats themselves."""
    for path in ("/items/1", "/items/1", "/items/2", "/status/503", "/nope", "/health"):
        await (await client.get(url + path)).read()
    seen = await stats(client, url)
    assert seen["requests"] == 5
    assert seen["by_path"] == {"/items/1": 2, "/items/2": 1, "/status/503": 1, "/nope": 1}
    assert seen["by_status"] == {"200": 3, "404": 1, "503": 1}
    assert seen["in_flight"] == 0 and seen["peak_in_flight"] == 1


async def test_stats_see_every_request_in_flight_at_once(
    client: aiohttp.ClientSession, serve: Serve
) -> None:
    """200 concurrent requests at 500 ms latency: the server saw all 200 in flight together."""
    url = await serve(Behaviour(latency_ms=500))
    responses = await asyncio.gather(*(client.get(url + f"/items/{i}") for i in range(200)))
    assert [response.status for response in responses] == [200] * 200
    seen = await stats(client, url)
    assert (seen["requests"], seen["peak_in_flight"], seen["in_flight"]) == (200, 200, 0)
    assert seen["by_status"] == {"200": 200}
    assert len(seen["by_path"]) == 200


async def test_stats_reset_zeroes_the_counters(client: aiohttp.ClientSession, url: str) -> None:
    """POST /stats/reset zeroes requests, counts and the peak."""
    await (await client.get(url + "/items/1")).read()
    async with client.post(url + "/stats/reset") as response:
        assert await response.json() == {"reset": True}
    seen = await stats(client, url)
    assert (seen["requests"], seen["peak_in_flight"], seen["by_path"]) == (0, 0, {})


# --- injected behaviour and overrides ------------------------------------------------------------


async def test_latency_is_injected_and_reported(
    client: aiohttp.ClientSession, serve: Serve
) -> None:
    """A server started with 60 ms latency holds each request at least that long."""
    url = await serve(Behaviour(latency_ms=60, distribution="fixed"))
    started = time.perf_counter()
    async with client.get(url + "/items/1") as response:
        assert response.headers[LATENCY_HEADER] == "60.000"
    assert time.perf_counter() - started >= 0.055


async def test_query_parameters_override_the_server_settings(
    client: aiohttp.ClientSession, serve: Serve
) -> None:
    """`?latency=` and `?error-rate=` (or `error_rate`) override the server's own settings."""
    url = await serve(Behaviour(latency_ms=60, error_rate=1.0))
    assert (await client.get(url + "/items/1")).status in (500, 502, 503)
    async with client.get(url + "/items/1?error-rate=0&latency=5ms") as response:
        assert response.status == 200 and response.headers[LATENCY_HEADER] == "5.000"
    async with client.get(url + "/items/1?error_rate=0&latency=0") as response:
        assert response.status == 200 and LATENCY_HEADER not in response.headers


@pytest.mark.parametrize("distribution", ["uniform", "normal", "lognormal", "exponential"])
async def test_jitter_spreads_latency_reproducibly_with_a_seed(
    client: aiohttp.ClientSession, serve: Serve, distribution: str
) -> None:
    """Two servers with the same seed inject the same spread-out latencies, in the same order."""
    behaviour = Behaviour(latency_ms=20, jitter_ms=10, distribution=distribution)
    runs = []
    for _ in range(2):
        url = await serve(behaviour, seed=42)
        latencies = []
        for _ in range(10):
            async with client.get(url + "/items/1") as response:
                latencies.append(float(response.headers[LATENCY_HEADER]))
        runs.append(latencies)
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 10 and all(value >= 0 for value in runs[0])


async def test_a_request_seed_makes_its_latency_draw_repeatable(
    client: aiohttp.ClientSession, url: str
) -> None:
    """`?seed=N` gives that request a generator of its own: the same draw every time."""
    query = "/items/1?latency=10ms&jitter=5ms&distribution=normal&seed=9"
    drawn = {(await client.get(url + query)).headers[LATENCY_HEADER] for _ in range(3)}
    assert len(drawn) == 1


async def test_error_rate_answers_500_502_and_503(
    client: aiohttp.ClientSession, serve: Serve
) -> None:
    """--error-rate 0.5: about half the answers are injected 500/502/503 with a JSON body."""
    url = await serve(Behaviour(error_rate=0.5))
    statuses = []
    for _ in range(100):
        async with client.get(url + "/items/1") as response:
            statuses.append(response.status)
            if response.status != 200:
                assert (await response.json())["error"] == "injected server error"
    assert set(statuses) == {200, 500, 502, 503}
    assert 25 <= statuses.count(200) <= 75
    assert (await stats(client, url))["faults"]["error"] == 100 - statuses.count(200)


async def test_rate_limit_answers_429_with_retry_after(
    client: aiohttp.ClientSession, serve: Serve
) -> None:
    """Beyond the rate limit the server answers 429 with a whole-second Retry-After."""
    url = await serve(Behaviour(rate_limit=2))
    responses = await asyncio.gather(*(client.get(url + "/items/1") for _ in range(10)))
    statuses = [response.status for response in responses]
    assert statuses.count(200) >= 2 and statuses.count(429) >= 5
    limited = next(response for response in responses if response.status == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert (await limited.json())["error"] == "rate limit exceeded"


async def test_rate_limit_can_be_asked_for_per_request(
    client: aiohttp.ClientSession, url: str
) -> None:
    """`?rate-limit=1` limits those requests even on a server without a limit."""
    statuses = [(await client.get(url + "/items/1?rate-limit=1")).status for _ in range(5)]
    assert statuses[0] == 200 and 429 in statuses


# --- faults, as a real client sees them ----------------------------------------------------------


async def raw_get(url: str, path: str) -> bytes:
    """Send one GET on a raw socket and read until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_reset_fault_resets_the_connection(url: str) -> None:
    """faults=reset=1: the client's read fails with a connection reset, not a clean close."""
    with pytest.raises(ConnectionResetError):
        await raw_get(url, "/items/1?faults=reset=1")


async def test_empty_fault_closes_without_a_byte(client: aiohttp.ClientSession, url: str) -> None:
    """faults=empty=1: the connection closes cleanly with no response at all."""
    assert await raw_get(url, "/items/1?faults=empty=1") == b""
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get(url + "/items/1?faults=empty=1")


async def test_malformed_fault_sends_a_broken_body(client: aiohttp.ClientSession, url: str) -> None:
    """faults=malformed=1: a 200 whose chunked body is garbage, which a client cannot read."""
    raw = await raw_get(url, "/items/1?faults=malformed=1")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and b"ZZ" in raw
    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientResponseError)) as caught:
        async with client.get(url + "/items/1?faults=malformed=1") as response:
            await response.read()
    assert "chunk" in str(caught.value)


async def test_hang_fault_never_answers(client: aiohttp.ClientSession, url: str) -> None:
    """faults=hang=1: no answer comes; when the client gives up the server lets the request go."""
    with pytest.raises(asyncio.TimeoutError):
        await client.get(url + "/items/1?faults=hang=1", timeout=aiohttp.ClientTimeout(0.3))
    for _ in range(100):  # the server notices the closed connection on its next loop turns
        seen = await stats(client, url)
        if seen["in_flight"] == 0:
            break
        await asyncio.sleep(0.02)
    assert seen["in_flight"] == 0 and seen["faults"] == {"hang": 1}


async def test_slow_fault_trickles_the_whole_body(client: aiohttp.ClientSession, url: str) -> None:
    """faults=slow=1: the normal body, complete, but arriving in many pieces."""
    chunks = []
    async with client.get(url + "/items/3?faults=slow=1") as response:
        assert response.status == 200
        async for chunk in response.content.iter_any():
            chunks.append(chunk)
    assert b"".join(chunks) == item_body(3)
    assert len(chunks) >= 5


async def test_faults_are_counted_in_stats(client: aiohttp.ClientSession, url: str) -> None:
    """Broken connections count as faults and have no status in /stats."""
    for _ in range(3):
        assert await raw_get(url, "/items/1?faults=empty=1") == b""
    seen = await stats(client, url)
    assert seen["faults"] == {"empty": 3} and seen["by_status"] == {}
    assert seen["requests"] == 3 and seen["in_flight"] == 0


# --- caps and malformed parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cap", "unit"),
    [
        ("/items/1?latency=3600s", MAX_DELAY_MS, "ms"),
        ("/items/1?jitter=61s", MAX_DELAY_MS, "ms"),
        ("/items/1?rate-limit=1e9", 1_000_000, "requests/s"),
        ("/delay/3600s", MAX_DELAY_MS, "ms"),
        ("/bytes/10737418240", MAX_BYTES, "bytes"),
        ("/drip?numbytes=10737418240", MAX_BYTES, "bytes"),
        ("/drip?duration=3600s", MAX_DELAY_MS, "ms"),
        (f"/drip?chunks={MAX_DRIP_CHUNKS + 1}", MAX_DRIP_CHUNKS, "chunks"),
        (f"/redirect/{MAX_REDIRECTS + 1}", MAX_REDIRECTS, "redirects"),
        ("/items/" + "9" * 30, 10**18, ""),
    ],
)
async def test_requests_over_a_cap_get_a_400_naming_the_cap(
    client: aiohttp.ClientSession, url: str, path: str, cap: float, unit: str
) -> None:
    """Every size and duration a client can ask for is capped: 400, the cap in the JSON error."""
    status, body = await get_json(client, url + path)
    assert status == 400
    assert body["cap"] == cap and body["unit"] == unit
    assert "over the cap of" in body["error"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/items/abc", "bad item id"),
        ("/items/-1", "bad item id"),
        ("/items/1?latency=soon", "bad latency"),
        ("/items/1?jitter=-5ms", "bad jitter"),
        ("/items/1?distribution=zipf", "bad distribution"),
        ("/items/1?error-rate=2", "bad error-rate"),
        ("/items/1?rate-limit=fast", "bad rate-limit"),
        ("/items/1?faults=boom=1", "bad fault"),
        ("/items/1?faults=reset=0.6,hang=0.6", "add up to more than 1"),
        ("/items/1?error-rate=0.6&faults=reset=0.6", "add up to more than 1"),
        ("/items/1?latency=5ms&seed=abc", "bad seed"),
        ("/delay/soon", "bad delay"),
        ("/status/abc", "bad status"),
        ("/status/99", "bad status"),
        ("/status/200:-1", "bad status"),
        ("/bytes/abc", "bad byte count"),
        ("/bytes/10?seed=x", "bad seed"),
        ("/drip?numbytes=x", "bad numbytes"),
        ("/drip?chunks=0", "bad chunks"),
        ("/drip?duration=soon", "bad drip duration"),
        ("/redirect/0", "bad redirect count"),
        ("/redirect/two", "bad redirect count"),
    ],
)
async def test_malformed_parameters_get_a_400_with_a_clear_message(
    client: aiohttp.ClientSession, url: str, path: str, message: str
) -> None:
    """Each malformed parameter is a 400 whose JSON error says what was wrong."""
    status, body = await get_json(client, url + path)
    assert status == 400
    assert body["error"].startswith(message) or message in body["error"]
    assert "cap" not in body


async def test_bad_requests_are_counted_as_400s(client: aiohttp.ClientSession, url: str) -> None:
    """A refused request is still a request the server saw."""
    await (await client.get(url + "/bytes/abc")).read()
    assert (await stats(client, url))["by_status"] == {"400": 1}
