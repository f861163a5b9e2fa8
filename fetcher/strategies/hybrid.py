"""One process per core, each running an asyncio-aiohttp event loop over its share of the URLs.

Processes alone overlap only one request each; one event loop alone runs all the per-response
Python on one core. Together, P processes x C tasks keep P*C requests in flight and spread the
CPU work over P cores. URL i goes to process i mod P, so shares differ by at most one URL; a
streamed URL file is not split up front: each process reads it and takes its stride. Each
process sends every result down its own pipe as it completes; a pipe per process (rather than
one shared queue) means a process that dies cannot leave a lock held, and its end of file says
it is gone once everything it sent has been read. URLs it never answered become `worker_died`.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from fetcher.config import FetchConfig
from fetcher.loop import run_loop
from fetcher.models import FetchResult, OnResult
from fetcher.orphans import watch_parent
from fetcher.policy import limits
from fetcher.strategies import asyncio_aiohttp
from fetcher.strategies.base import clock, worker_died
from fetcher.strategies.spawn import sigint_held

DIED = "the hybrid worker process ended before answering"
STOP_TIMEOUT_S = 5.0


class Stride:
    """URLs k, k+P, k+2P, ... of a batch: process k's share, taken as it is iterated."""

    def __init__(self, urls: Collection[str], k: int, count: int) -> None:
        self.urls, self.k, self.count = urls, k, count

    def __len__(self) -> int:
        return max(0, (len(self.urls) - self.k + self.count - 1) // self.count)

    def __iter__(self) -> Iterator[str]:
        return itertools.islice(iter(self.urls), self.k, None, self.count)

    def __contains__(self, url: object) -> bool:
        return any(each == url for each in self)

    def index(self, j: int) -> int:
        """The batch index of this share's `j`-th URL."""
        return self.k + j * self.count


def share_for_child(urls: Collection[str], k: int, count: int) -> Stride:
    """What process k is sent: a list is sliced here, so each process gets only its share; a
    streamed collection (`streamed = True`, as `fetcher fetch`'s URL file) is sent whole, a few
    bytes, and each process reads the file and takes its own stride."""
    if getattr(urls, "streamed", False):
        return Stride(urls, k, count)
    return Stride(list(itertools.islice(iter(urls), k, None, count)), 0, 1)


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch with `config.processes` processes of `config.concurrency` tasks each."""
    t0 = clock() if t0 is None else t0
    count = max(1, min(config.processes, len(urls)))
    # spawn, as in the processes strategy: forking a parent that runs threads is unsafe.
    context = multiprocessing.get_context("spawn")
    children: list[tuple[BaseProcess, Connection, Stride]] = []
    finished = False
    try:
        with sigint_held():  # children that never see Ctrl-C (see spawn.py)
            for k in range(count):
                reader, writer = context.Pipe(duplex=False)
                # Processes share no limiter: each gets its part of the rate and per-host limits.
                child_config = limits.share(config, count, k)
                share = share_for_child(urls, k, count)
                child = context.Process(
                    target=_child_main,
                    args=(writer, share, k, count, child_config, t0),
                    daemon=True,
                )
                child.start()
                writer.close()  # only the child holds the writing end: its death reads as EOF
                children.append((child, reader, Stride(urls, k, count)))
        _collect(children, on_result, t0)
        finished = True
    finally:
        _stop([child for child, _, _ in children], STOP_TIMEOUT_S if finished else 0.0)
        for _, reader, _ in children:
            reader.close()


def _collect(
    children: list[tuple[BaseProcess, Connection, Stride]], on_result: OnResult, t0: float
) -> None:
    """Hand on every result as it arrives; when a pipe ends, fill in what its process owed.

    What each process has answered is a bit per URL of its share, not a Python object per URL.
    """
    shares = {reader: share for _, reader, share in children}
    answered = {reader: bytearray((len(share) + 7) // 8) for reader, share in shares.items()}
    while shares:
        for reader in wait(list(shares)):
            assert isinstance(reader, Connection)
            try:
                result: FetchResult = reader.recv()
            except (EOFError, OSError):
                share, bits = shares.pop(reader), answered.pop(reader)
                for j, url in enumerate(share):
                    if not bits[j >> 3] & (1 << (j & 7)):
                        on_result(worker_died(share.index(j), url, t0, DIED))
                continue
            j = (result.index - shares[reader].k) // shares[reader].count
            bits = answered[reader]
            if not bits[j >> 3] & (1 << (j & 7)):
                bits[j >> 3] |= 1 << (j & 7)
                on_result(result)


def _stop(children: Sequence[BaseProcess], grace_s: float) -> None:
    """Make sure no child outlives the batch: after a normal end they are exiting already."""
    for child in children:
        child.join(grace_s)
        if child.is_alive():
            child.kill()
            child.join()


def _child_main(
    writer: Connection, share: Stride, k: int, count: int, config: FetchConfig, t0: float
) -> None:
    """In a worker process: fetch this share on one event loop, sending each result home."""
    watch_parent()
    prefix = f"pid-{os.getpid()}/"

    def send(result: FetchResult) -> None:
        index = k + result.index * count  # the share's j-th URL is the batch's k + j*P-th
        writer.send(replace(result, index=index, worker=prefix + result.worker))

    try:
        run_loop(asyncio_aiohttp.run_async(share, config, send, t0))
    except KeyboardInterrupt:
        pass  # started off the main thread, Ctrl-C reaches us too; the parent reports it, once
    finally:
        writer.close()
