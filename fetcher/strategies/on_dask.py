"""The batch cut into chunks, each chunk run by the asyncio-aiohttp loop on a Dask worker.

Where: `config.scheduler` (`--scheduler tcp://HOST:PORT`), else $DASK_SCHEDULER_ADDRESS, else a
LocalCluster of `config.processes` worker processes started for the run (fetcher.cluster).

Scale: chunks are cut from the list as they are submitted, and at most WINDOW_PER_SLOT chunks
per worker thread are in flight, so the URLs never travel as one blob and a 1,000,000-URL batch
holds a few dozen futures, not a million. A chunk is a task of its own (its URLs, its first
index, the config); each worker thread runs one at a time, so the global rate is split over the
cluster's threads, as hybrid splits it over its processes.

Results: a chunk's results come back together when it completes, and go to `on_result` then, so
output grows chunk by chunk. A worker that dies mid-chunk is Dask's to deal with: the scheduler
runs the chunk again on another worker (its requests are sent again), and only the run that
completes is reported, so each URL has exactly one result. A chunk Dask gives up on (it killed
`allowed-failures` workers) becomes `worker_died` results.

Ctrl-C sets a Dask Event the chunks watch: each running chunk cancels its requests in flight and
returns the results it finished, which are handed on (within STOP_GRACE_S); then every future is
cancelled. A resumed run fetches the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import socket
import time
import uuid
from collections.abc import Collection, Coroutine, Iterable, Iterator
from dataclasses import replace
from typing import Any

from fetcher import cluster
from fetcher.config import FetchConfig
from fetcher.loop import run_loop
from fetcher.models import FetchResult, OnResult
from fetcher.policy import limits
from fetcher.strategies import asyncio_aiohttp
from fetcher.strategies.base import Job, clock, worker_died
from fetcher.strategies.spawn import sigint_held

# Chunks submitted per worker thread: one running, one queued behind it, so no thread waits
# for the client between two chunks.
WINDOW_PER_SLOT = 2
# A chunk keeps each of its tasks busy for about this many requests before the chunk's tail,
# where fewer than `concurrency` requests are left to overlap.
REQUESTS_PER_TASK = 20
MIN_CHUNK = 500
# After Ctrl-C, how long running chunks get to hand back what they finished.
STOP_GRACE_S = 5.0
DIED = "the Dask worker running this URL's chunk died, and Dask gave up on the chunk"
Chunk = tuple[int, list[str]]


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch in chunks on a Dask cluster; see the module's docstring."""
    t0 = clock() if t0 is None else t0
    if not urls:
        return
    workers = max(1, min(config.processes, len(urls)))
    with contextlib.ExitStack() as stack:
        # Workers (and the threads Dask starts here) never see the terminal's Ctrl-C (spawn.py).
        with sigint_held():
            running = stack.enter_context(
                cluster.connect(config.scheduler, workers, "the dask strategy")
            )
        _run_on(running, urls, config, on_result, t0)


def chunk_size(count: int, slots: int, concurrency: int) -> int:
    """URLs per chunk: enough to keep a chunk's tasks busy, small enough to spread the batch
    over every worker thread and to stream results back in steps."""
    even = math.ceil(count / slots)
    return max(1, min(even, max(MIN_CHUNK, concurrency * REQUESTS_PER_TASK)))


def _run_on(
    running: cluster.Cluster,
    urls: Collection[str],
    config: FetchConfig,
    on_result: OnResult,
    t0: float,
) -> None:
    """Submit chunks a window at a time; hand each chunk's results on as it completes."""
    distributed = cluster.require_distributed("the dask strategy")  # typed Any: untyped API
    slots = running.slots
    # Every worker thread has its part of the rate; per-host connections are split downwards
    # (index `slots - 1` never takes a remainder), so no host sees more than asked for.
    worker_config = replace(limits.share(config, slots, slots - 1), scheduler=None)
    # perf_counter differs between machines; the wall clock (NTP-synced) does not.
    epoch0 = time.time() - (clock() - t0)
    size = chunk_size(len(urls), slots, config.concurrency)
    chunks = _chunks(urls, size)
    run_id = uuid.uuid4().hex[:8]
    stop_name = f"fetcher-stop-{run_id}"
    client: Any = running.client
    pending: dict[Any, Chunk] = {}

    def submit(chunk: Chunk) -> Any:
        start, part = chunk
        future = client.submit(
            fetch_chunk,
            start,
            part,
            worker_config,
            epoch0,
            stop_name,
            key=f"fetcher-chunk-{run_id}-{start}",
            pure=False,
        )
        pending[future] = chunk
        return future

    try:
        first = [submit(chunk) for chunk in itertools.islice(chunks, WINDOW_PER_SLOT * slots)]
        completed = distributed.as_completed(first, loop=client.loop)
        for future in completed:
            start, part = pending.pop(future)
            for result in _chunk_results(future, start, part, t0):
                on_result(result)
            following = next(chunks, None)
            if following is not None:
                completed.add(submit(following))
    except KeyboardInterrupt:
        # Running chunks stop and hand back the requests they finished; a second Ctrl-C, or
        # STOP_GRACE_S, ends the wait.
        distributed.Event(stop_name, client=client).set()
        cluster.wait_done(pending, STOP_GRACE_S)
        for future in list(pending):
            if future.status == "finished":
                for result in _chunk_results(future, *pending.pop(future), t0):
                    on_result(result)
        raise
    finally:
        if pending:  # Ctrl-C or an error: nothing more runs for this batch
            client.cancel(list(pending), force=True)


def _chunks(urls: Iterable[str], size: int) -> Iterator[Chunk]:
    """(first index, URLs) of each chunk, cut as they are needed: the list is iterated once,
    never indexed, so a streamed URL file works too."""
    remaining = iter(urls)
    start = 0
    while part := list(itertools.islice(remaining, size)):
        yield start, part
        start += len(part)


def _chunk_results(future: Any, start: int, part: list[str], t0: float) -> list[FetchResult]:
    """The chunk's results; a chunk that failed as a whole still gives one result per URL."""
    from distributed import KilledWorker

    try:
        results: list[FetchResult] = future.result()
    except KilledWorker:
        return [worker_died(start + k, url, t0, DIED) for k, url in enumerate(part)]
    except Exception as exc:  # a bug in a chunk must still yield its URLs' results
        return [Job(start + k, url, "?", t0).failed(exc) for k, url in enumerate(part)]
    return results


def fetch_chunk(
    start: int, urls: list[str], config: FetchConfig, epoch0: float, stop_name: str
) -> list[FetchResult]:
    """On a worker: fetch one chunk on a new event loop; times measured from the batch's start.
    When the client says stop (Ctrl-C), the requests still running are cancelled and the
    results finished so far are returned."""
    t0 = clock() - (time.time() - epoch0)
    prefix = f"{socket.gethostname()}/pid-{os.getpid()}/"
    results: list[FetchResult] = []

    def keep(result: FetchResult) -> None:
        results.append(replace(result, index=start + result.index, worker=prefix + result.worker))

    stop = cluster.StopSignal(stop_name)
    try:
        run_loop(_until_stopped(asyncio_aiohttp.run_async(urls, config, keep, t0), stop))
    finally:
        stop.close()
    return results


async def _until_stopped(batch: Coroutine[Any, Any, None], stop: cluster.StopSignal) -> None:
    """Run `batch` to its end, or cancel it once `stop` is set."""
    task = asyncio.ensure_future(batch)
    while not task.done():
        await asyncio.wait({task}, timeout=cluster.STOP_POLL_S)
        if stop.is_set():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return
    task.result()
