"""A bare aiohttp "hello" app: the yardstick scripts/bench_mock_server.py measures the mock against.

It prints `listening on http://HOST:PORT` like the mock server, and stops on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    """GET /: the smallest useful answer."""
    return web.Response(text="hello")


async def serve(host: str, port: int) -> None:
    """Serve until a signal asks us to stop."""
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Like the mock server's --exit-with-stdin: whoever started us holds our stdin, and when it
    # closes (even because that process was killed) we stop.
    threading.Thread(target=_wait_for_eof, args=(loop, stop), daemon=True).start()
    try:
        # The same backlog as the mock server, so neither has an edge there.
        await web.TCPSite(runner, host, port, backlog=4096).start()
        bound_host, bound_port = runner.addresses[0][:2]
        print(f"listening on http://{bound_host}:{bound_port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def _wait_for_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set `stop` once stdin is closed."""
    while os.read(0, 4096):
        pass
    with contextlib.suppress(RuntimeError):  # the loop is already closed: we are stopping
        loop.call_soon_threadsafe(stop.set)


if __name__ == "__main__":
    asyncio.run(serve("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
