"""The mock API: create_app(behaviour) wires the endpoints, each wrapped in injected behaviour."""

from __future__ import annotations

import random

from aiohttp import web

from mock_server import responses
from mock_server.behaviour import Behaviour
from mock_server.inject import measured
from mock_server.state import STATE, ServerState

# The API, which gets injected behaviour and is counted in /stats.
API_ROUTES = (
    ("/delay/{duration}", responses.delay),
    ("/status/{codes}", responses.status),
    ("/bytes/{n}", responses.random_bytes),
    ("/drip", responses.drip),
    ("/redirect/{n}", responses.redirect),
    ("/redirect-loop", responses.redirect_loop),
)


class ItemsResource(web.DynamicResource):
    """`/items/{id}`, matched with string operations rather than aiohttp's regular expression.

    aiohttp's match (a regex, then URL-unquoting) costs about a microsecond: a few percent of all
    a request to /items costs, which matters on the path measured against a bare app.
    """

    def __init__(self) -> None:
        super().__init__("/items/{id}")

    def _match(self, path: str) -> dict[str, str] | None:
        prefix, _, item_id = path.rpartition("/")
        if prefix != "/items" or not item_id:
            return None
        # The router hands us the path decoded but for %2F and %25; those go the long way.
        return super()._match(path) if "%" in item_id else {"id": item_id}


def create_app(behaviour: Behaviour | None = None, *, seed: int | None = None) -> web.Application:
    """Build the mock API with `behaviour` injected into every API request."""
    state = ServerState(behaviour or Behaviour(), random.Random(seed), seed)
    app = web.Application()
    app[STATE] = state
    items, items_handler = ItemsResource(), measured(state, responses.items)
    app.router.register_resource(items)
    items.add_route("HEAD", items_handler)
    items.add_route("GET", items_handler)
    for path, handler in API_ROUTES:
        app.router.add_get(path, measured(state, handler))
    # Reports on the server itself: never delayed, faulted or counted.
    app.router.add_get("/health", responses.health)
    app.router.add_get("/stats", responses.stats)
    app.router.add_post("/stats/reset", responses.stats_reset)
    # Last, so it only sees what nothing else matched: unknown paths are counted 404s.
    app.router.add_get("/{tail:.*}", measured(state, responses.not_found))
    return app
