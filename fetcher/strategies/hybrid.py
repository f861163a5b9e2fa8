"""One process per core, each running an asyncio-aiohttp event loop over its share of the URLs.

Processes alone overlap only one request each; one event loop alone runs all the per-response
Python on one core. Together, P processes x C tasks keep P*C requests in flight and spread the
CPU work over P cores. URL i goes to process i mod P, so shares differ by at most one URL. Each
process sends every result down its own pipe as it completes; a pipe per process (rather than
one shared queue) means a process that dies cannot leave a lock held, and its end of file says
it is gone once everything it sent has been read. URLs it never answered become `worker_died`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from fetcher.config import FetchConfig
from fetcher.models import FetchResult, OnResult
from fetcher.policy import limits
from fetcher.strategies import asyncio_aiohttp
from fetcher.strategies.base import clock, run_loop, worker_died
from fetcher.strategies.spawn import sigint_held

DIED = "the hybrid worker process ended before answering"
STOP_TIMEOUT_S = 5.0
Share = list[tuple[int, str]]


def run(
    urls: Sequence[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch with `config.processes` processes of `config.concurrency` tasks each."""
    t0 = clock() if t0 is None else t0
    count = max(1, min(config.processes, len(urls)))
    shares: list[Share] = [[] for _ in range(count)]
    for index, url in enumerate(urls):
        shares[index % count].append((index, url))
    # spawn, as in the processes strategy: forking a parent that runs threads is unsafe.
    context = multiprocessing.get_context("spawn")
    children: list[tuple[BaseProcess, Connection, Share]] = []
    finished = False
    try:
        with sigint_held():  # children that never see Ctrl-C (see spawn.py)
            for k, share in enumerate(shares):
                reader, writer = context.Pipe(duplex=False)
                # Processes share no limiter: each gets its part of the rate and per-host limits.
                child_config = limits.share(config, count, k)
                child = context.Process(
                    target=_child_main, args=(writer, share, child_config, t0), daemon=True
                )
                child.start()
                writer.close()  # only the child holds the writing end: its death reads as EOF
                children.append((child, reader, share))
        _collect(children, on_result, t0)
        finished = True
    finally:
        _stop([child for child, _, _ in children], STOP_TIMEOUT_S if finished else 0.0)
        for _, reader, _ in children:
            reader.close()


def _collect(
    children: list[tuple[BaseProcess, Connection, Share]], on_result: OnResult, t0: float
) -> None:
    """Hand on every result as it arrives; when a pipe ends, fill in what its process owed."""
    owed = {reader: {index: url for index, url in share} for _, reader, share in children}
    while owed:
        for reader in wait(list(owed)):
            assert isinstance(reader, Connection)
            try:
                result: FetchResult = reader.recv()
            except (EOFError, OSError):
                for index, url in sorted(owed.pop(reader).items()):
                    on_result(worker_died(index, url, t0, DIED))
                continue
            if owed[reader].pop(result.index, None) is not None:
                on_result(result)


def _stop(children: Sequence[BaseProcess], grace_s: float) -> None:
    """Make sure no child outlives the batch: after a normal end they are exiting already."""
    for child in children:
        child.join(grace_s)
        if child.is_alive():
            child.kill()
            child.join()


def _child_main(writer: Connection, share: Share, config: FetchConfig, t0: float) -> None:
    """In a worker process: fetch this share on one event loop, sending each result home."""
    prefix = f"pid-{os.getpid()}/"
    indices = [index for index, _ in share]

    def send(result: FetchResult) -> None:
        writer.send(replace(result, index=indices[result.index], worker=prefix + result.worker))

    try:
        run_loop(asyncio_aiohttp.run_async([url for _, url in share], config, send, t0))
    except KeyboardInterrupt:
        pass  # started off the main thread, Ctrl-C reaches us too; the parent reports it, once
    finally:
        writer.close()
