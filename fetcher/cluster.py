"""A Dask cluster for a run: the scheduler asked for, or a LocalCluster started and closed here.

Shared by the `dask` fetch strategy and `fetcher load --dask`; needs the `dask` extra
(`distributed`), imported only when a cluster is asked for. Where the cluster is: the address
given (`--scheduler tcp://HOST:PORT`), else $DASK_SCHEDULER_ADDRESS, else a LocalCluster on this
machine with one worker process of one thread each, listening on 127.0.0.1 only, its logs kept
to errors. An unreachable scheduler is a FetcherError within CONNECT_TIMEOUT_S, never a hang.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fetcher.errors import FetcherError, MissingExtraError

if TYPE_CHECKING:
    from distributed import Client

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
# How long to try to reach a scheduler before saying it is unreachable.
CONNECT_TIMEOUT_S = 8.0
# Passed to a LocalCluster's workers as the run sees them (fetcher.policy.tls reads them).
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
# How often a worker asks the scheduler whether the client said stop.
STOP_POLL_S = 0.1
# How long a LocalCluster may take to start its workers.
LOCAL_START_TIMEOUT_S = 60.0


@dataclass
class Cluster:
    """A connected client and what the run needs to know of the cluster behind it."""

    client: Client
    # Worker address -> its threads: a chunk or a generator runs per thread at once.
    threads: dict[str, int]
    # Worker address -> the host it runs on.
    hosts: dict[str, str]
    # True for a LocalCluster started by this run.
    local: bool
    address: str

    @property
    def slots(self) -> int:
        """How many tasks the cluster runs at once: its threads in all."""
        return max(1, sum(self.threads.values()))

    @property
    def host_count(self) -> int:
        """How many machines its workers run on."""
        return len(set(self.hosts.values())) or 1


def require_distributed(feature: str) -> Any:
    """The `distributed` module, or a MissingExtraError naming the `dask` extra."""
    try:
        import distributed
    except ImportError:
        raise MissingExtraError(feature, "dask") from None
    return distributed


def scheduler_address(explicit: str | None) -> str | None:
    """The scheduler to use: the one given, else $DASK_SCHEDULER_ADDRESS; None for a local one."""
    return explicit or os.environ.get(ADDRESS_VARIABLE) or None


@contextlib.contextmanager
def connect(address: str | None, local_workers: int, feature: str) -> Iterator[Cluster]:
    """A client on the scheduler at `address`, or on a LocalCluster of `local_workers`
    single-threaded worker processes, started here and closed when the block ends."""
    distributed = require_distributed(feature)
    address = scheduler_address(address)
    with contextlib.ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(local_cluster(local_workers, feature))
            client = stack.enter_context(
                distributed.Client(cluster, timeout=LOCAL_START_TIMEOUT_S, set_as_default=False)
            )
        else:
            client = stack.enter_context(_remote_client(distributed, address))
        info = client.scheduler_info()
        workers: dict[str, Any] = info.get("workers", {})
        if not workers:
            raise FetcherError(f"the Dask scheduler at {client.scheduler.address} has no workers")
        yield Cluster(
            client=client,
            threads={addr: int(w.get("nthreads", 1)) for addr, w in workers.items()},
            hosts={addr: str(w.get("host", addr)) for addr, w in workers.items()},
            local=address is None,
            address=str(client.scheduler.address),
        )


@contextlib.contextmanager
def local_cluster(workers: int, feature: str) -> Iterator[Any]:
    """A LocalCluster of `workers` single-threaded worker processes on 127.0.0.1, with no
    dashboard and its logs kept to errors, closed when the block ends.

    Forkserver where there is one: a server process imports distributed once and the workers
    are forked from it (it runs no threads, so the fork is safe), which starts and closes them
    faster than spawning each from scratch; elsewhere Dask's default, spawn.
    """
    distributed = require_distributed(feature)
    import dask

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with (
        dask.config.set({"distributed.worker.multiprocessing-method": method}),
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            worker_dashboard_address=None,
            silence_logs=logging.ERROR,
            # Workers forked from a forkserver started earlier would see its environment, not
            # the run's: hand them the variables that decide whom TLS trusts.
            env={name: os.environ[name] for name in TRUST_VARIABLES if name in os.environ},
        ) as cluster,
    ):
        yield cluster


@contextlib.contextmanager
def _remote_client(distributed: Any, address: str) -> Iterator[Client]:
    """A client on a running scheduler; a FetcherError of one line when it cannot be reached."""
    started = time.monotonic()
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        waited = time.monotonic() - started
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if isinstance(error, (OSError, TimeoutError)):
            reason = f"nothing answered in {waited:.0f} s"
        raise FetcherError(
            f"cannot reach the Dask scheduler at {address}: {reason[:200]}"
        ) from None
    with client:
        yield client


def wait_done(futures: Iterable[Any], timeout_s: float) -> None:
    """Wait until every future is done, at most `timeout_s`; a second Ctrl-C ends the wait
    too (a plain sleep loop, which a signal interrupts, where a client's wait may not be)."""
    futures = list(futures)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not all(future.done() for future in futures):
        time.sleep(0.02)


class StopSignal:
    """On a worker: `is_set()` turns true once the client sets the Dask Event `name`.

    A thread asks the scheduler every STOP_POLL_S, so the event loop that asks never blocks on
    the network. It asks rather than waits: a wait still pending in the scheduler when the
    cluster closes is logged there as an error, with a traceback, at the end of a good run. A
    lost connection to the client counts as a stop.
    """

    def __init__(self, name: str) -> None:
        distributed: Any = require_distributed("a stop signal")
        self._event: Any = distributed.Event(name, client=distributed.get_client())
        self._set = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(STOP_POLL_S):
            try:
                if self._event.is_set():
                    self._set.set()
                    return
            except Exception:  # the scheduler went away: stop, as a Ctrl-C would
                self._set.set()
                return

    def is_set(self) -> bool:
        """True once the client said stop."""
        return self._set.is_set()

    def close(self) -> None:
        """Stop watching."""
        self._done.set()
