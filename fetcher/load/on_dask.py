"""`fetcher load --dask`: one generator per Dask worker, their histograms merged here.

The cluster is the one `--scheduler` (or $DASK_SCHEDULER_ADDRESS) names, else a LocalCluster of
`processes` workers started for the run (fetcher.cluster). Generator k of n runs
`config.share(k)` pinned to worker k: rate/n in the open model, its part of the connections and
of the request count. Each returns a GeneratorResult whose HdrHistograms are encoded, as a
process of `--processes` does, and they are merged on the client. Ctrl-C sets a Dask Event the
generators poll; they stop as they would on their own Ctrl-C, and their partial results are
merged.
"""

from __future__ import annotations

import signal
import socket
import uuid
from dataclasses import dataclass, replace
from typing import Any

from fetcher import cluster
from fetcher.errors import FetcherError
from fetcher.load.config import LoadConfig
from fetcher.load.processes import Signals, generate, note_stop_signal
from fetcher.load.results import GeneratorResult, LoadResult, merge
from fetcher.loop import run_loop

FEATURE = "fetcher load --dask"
# After a stop, how long the generators get to drain and report before they are cancelled.
STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class WorkerPart:
    """Which host ran a generator, and what it measured."""

    host: str
    part: GeneratorResult


def run_dask(config: LoadConfig, address: str | None) -> LoadResult:
    """One generator per worker of the cluster; the parts merged into one result."""
    if config.csv_path is not None:
        raise FetcherError("--csv writes on this machine; it cannot be combined with --dask")
    distributed: Any = cluster.require_distributed(FEATURE)
    with cluster.connect(address, config.processes, FEATURE) as running:
        client: Any = running.client
        workers = sorted(running.threads)
        config = replace(config, processes=len(workers))
        stop_name = f"fetcher-load-stop-{uuid.uuid4().hex[:8]}"
        stop = distributed.Event(stop_name, client=client)
        futures = [
            client.submit(
                generate_on_worker,
                config.share(k),
                k,
                stop_name,
                key=f"fetcher-load-{stop_name}-{k}",
                workers=[worker],
                allow_other_workers=False,
                pure=False,
            )
            for k, worker in enumerate(workers)
        ]
        interrupted = False
        try:
            parts: list[WorkerPart] = client.gather(futures)
        except KeyboardInterrupt as stopped:
            # The generators stop as on their own Ctrl-C and hand back what they measured.
            note_stop_signal(getattr(stopped, "signum", signal.SIGINT))
            stop.set()
            interrupted = True
            cluster.wait_done(futures, STOP_GRACE_S)
            parts = [future.result() for future in futures if future.status == "finished"]
            if not parts:
                raise
        finally:
            client.cancel(futures, force=True)
    return _merged(config, parts, interrupted)


def _merged(config: LoadConfig, parts: list[WorkerPart], interrupted: bool) -> LoadResult:
    """The parts merged as --processes merges them, with the host of each."""
    result = merge(config, [p.part for p in parts])
    return replace(
        result,
        interrupted=result.interrupted or interrupted,
        hosts=tuple(p.host for p in parts),
    )


class _Go:
    """Generators start as soon as they are placed: there is no start barrier on a cluster."""

    def is_set(self) -> bool:
        return True


def generate_on_worker(config: LoadConfig, index: int, stop_name: str) -> WorkerPart:
    """On a worker: run generator `index` to its bound or to the client's stop."""
    stop = cluster.StopSignal(stop_name)
    try:
        signals = Signals(stop=stop, go=_Go())
        part = run_loop(generate(config, index, None, signals), config.use_uvloop)
    finally:
        stop.close()
    return WorkerPart(host=socket.gethostname(), part=part)
