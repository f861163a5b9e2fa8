"""What `fetcher load` measured: progress snapshots, per-generator parts, the merged result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fetcher.load.config import LoadConfig

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram

# Histograms in microseconds from 1 µs to one day, three significant digits: ~190 KB each.
HIST_MAX_US = 86_400_000_000
HIST_DIGITS = 3


def new_histogram() -> HdrHistogram:
    """An empty latency histogram in microseconds."""
    from hdrh.histogram import HdrHistogram  # here: importing the results costs no C extension

    return HdrHistogram(1, HIST_MAX_US, HIST_DIGITS)


class Recorder:
    """A histogram fed in batches: appending to a list costs far less than `record_value`.

    Batches are counted into a plain list of the histogram's cells (`absorb`), with hdrh's own
    index arithmetic inline: its `record_value` is pure Python, ~3 µs a call through four helper
    methods, which at 20,000 requests/s and the open model's three histograms was a sixth of a
    core, and a flush long enough to make the next requests start late. The HdrHistogram is
    filled from the cells only when it is read (`flushed`). A batch within one bucket (a fast
    target's latencies, or the start lags of a generator behind its schedule) is counted with one
    offset and one shift for all. It also keeps the count and sum of everything recorded, for the
    series over time.
    """

    def __init__(self) -> None:
        self.hist = new_histogram()
        self.values: list[int] = []
        self.count = 0
        self.total_us = 0
        hist = self.hist
        self.cells = [0] * hist.counts_len
        self.min_us = HIST_MAX_US
        self.max_us = 0
        self._unit: int = hist.unit_magnitude
        self._mask: int = hist.sub_bucket_mask
        self._half_magnitude: int = hist.sub_bucket_half_count_magnitude
        self._half_count: int = hist.sub_bucket_half_count

    def absorb(self) -> None:
        """Count the values appended so far into the cells."""
        values = self.values
        if not values:
            return
        self.total_us += sum(values)
        low, high = min(values), max(values)
        if low < 0 or high > HIST_MAX_US:
            values = [min(max(value, 0), HIST_MAX_US) for value in values]
            low, high = min(values), max(values)
        bucket = self._bucket(low)
        if bucket == self._bucket(high):
            self._count_in_bucket(values, bucket)
        else:
            self._count_across_buckets(values)
        self.count += len(values)
        self.min_us = min(self.min_us, low)
        self.max_us = max(self.max_us, high)
        self.values.clear()

    def _bucket(self, value: int) -> int:
        """hdrh's bucket of `value`: 64 - clz(value | mask) - (unit + half magnitude + 1)."""
        shift = self._unit + self._half_magnitude + 1
        return max(0, (value | self._mask).bit_length() - shift)

    def _count_in_bucket(self, values: list[int], bucket: int) -> None:
        """Count `values`, all in `bucket`: there a value's cell is an offset plus one shift."""
        cells, shift = self.cells, bucket + self._unit
        offset = ((bucket + 1) << self._half_magnitude) - self._half_count
        for value in values:
            cells[offset + (value >> shift)] += 1

    def _count_across_buckets(self, values: list[int]) -> None:
        """Count `values`, each with hdrh's index arithmetic (the first bucket's cell is
        value >> unit)."""
        cells, unit, mask = self.cells, self._unit, self._mask
        half_magnitude, half_count = self._half_magnitude, self._half_count
        shift = unit + half_magnitude + 1
        for value in values:
            if value <= mask:
                cells[value >> unit] += 1
                continue
            bucket = value.bit_length() - shift  # value > mask: value | mask is as long as value
            cells[((bucket + 1) << half_magnitude) + (value >> (bucket + unit)) - half_count] += 1

    def flushed(self) -> HdrHistogram:
        """The histogram with every value appended so far recorded in it."""
        self.absorb()
        hist = self.hist
        hist.counts[:] = self.cells
        hist.total_count = self.count
        if self.count:
            hist.min_value, hist.max_value = self.min_us, self.max_us
        return hist


@dataclass(frozen=True)
class Progress:
    """A look at a run while it goes: what the live display shows."""

    elapsed_s: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class GeneratorResult:
    """What one generator measured, picklable so a process can send it back."""

    requests: int
    unfinished: int
    elapsed_s: float
    nbytes: int
    late_starts: int
    status: dict[int, int]
    errors: dict[str, int]
    latency: bytes
    uncorrected: bytes
    start_lag: bytes
    interrupted: bool
    # Requests started, and the window they were started in (the rest of elapsed_s drained).
    sent: int = 0
    sending_s: float = 0.0
    # This generator's own CPU time, the most requests it had in flight at once, and per
    # FLUSH_INTERVAL_S its (responses, sum of their latencies in us).
    cpu_s: float = 0.0
    peak_in_flight: int = 0
    series: tuple[tuple[int, int], ...] = ()
    # The event loop it ran on: `uvloop` or `asyncio`.
    loop_name: str = "asyncio"
    # The open model's bound on its workers (connections) at the end, under the cap; 0: none.
    pool: int = 0
    # Why its per-request CSV could not be written (the run stopped there); None: it was.
    csv_failure: str | None = None
    # How busy its machine's cores were while it ran (see generator.machine_busy); None: a run
    # too short to tell.
    machine_busy: float | None = None


@dataclass(frozen=True)
class LoadResult:
    """A finished run, all processes merged; histograms are in microseconds."""

    config: LoadConfig
    requests: int
    unfinished: int
    duration_s: float
    nbytes: int
    late_starts: int
    status: dict[int, int]
    errors: dict[str, int]
    latency: HdrHistogram
    uncorrected: HdrHistogram
    start_lag: HdrHistogram
    interrupted: bool
    per_process: tuple[int, ...]
    csv_parts: tuple[str, ...] = field(default=())
    sent: int = 0
    sending_s: float = 0.0
    # The busiest generator's CPU time over its elapsed time: 1.0 is a core kept busy.
    generator_cpu: float = 0.0
    peak_in_flight: int = 0
    series: tuple[tuple[int, int], ...] = ()
    loop_name: str = "asyncio"
    # Each generator's elapsed time, in the order of per_process.
    per_process_s: tuple[float, ...] = ()
    # On a Dask cluster (`--dask`): the host each generator ran on; empty otherwise.
    hosts: tuple[str, ...] = ()
    pool: int = 0
    # The first generator's reason its per-request CSV could not be written; None: all were.
    csv_failure: str | None = None
    # How busy the busiest generator's machine's cores were during the run (all programs: the
    # generators, a target on that machine, anything else), 1.0 all of them; None: too short.
    machine_busy: float | None = None

    @property
    def requests_per_s(self) -> float:
        """Requests completed per second of the run."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def responses(self) -> int:
        """Requests that got an HTTP answer, of any status."""
        return sum(self.status.values())


def merge(config: LoadConfig, parts: list[GeneratorResult]) -> LoadResult:
    """One result from the generators' parts: histograms added, counts summed."""
    latency, uncorrected, start_lag = new_histogram(), new_histogram(), new_histogram()
    status: dict[int, int] = {}
    errors: dict[str, int] = {}
    for part in parts:
        latency.decode_and_add(part.latency)
        uncorrected.decode_and_add(part.uncorrected)
        start_lag.decode_and_add(part.start_lag)
        for code, count in part.status.items():
            status[code] = status.get(code, 0) + count
        for kind, count in part.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(
        config=config,
        requests=sum(p.requests for p in parts),
        unfinished=sum(p.unfinished for p in parts),
        duration_s=max((p.elapsed_s for p in parts), default=0.0),
        nbytes=sum(p.nbytes for p in parts),
        late_starts=sum(p.late_starts for p in parts),
        status=dict(sorted(status.items())),
        errors=dict(sorted(errors.items())),
        latency=latency,
        uncorrected=uncorrected,
        start_lag=start_lag,
        interrupted=any(p.interrupted for p in parts),
        per_process=tuple(p.requests for p in parts),
        per_process_s=tuple(p.elapsed_s for p in parts),
        csv_parts=_csv_parts(config),
        sent=sum(p.sent for p in parts),
        sending_s=max((p.sending_s for p in parts), default=0.0),
        generator_cpu=max((p.cpu_s / p.elapsed_s for p in parts if p.elapsed_s > 0), default=0.0),
        peak_in_flight=sum(p.peak_in_flight for p in parts),
        series=_merged_series([p.series for p in parts]),
        loop_name=parts[0].loop_name if parts else "asyncio",
        pool=sum(p.pool for p in parts),
        csv_failure=next((p.csv_failure for p in parts if p.csv_failure), None),
        machine_busy=max(
            (p.machine_busy for p in parts if p.machine_busy is not None), default=None
        ),
    )


def _merged_series(series: list[tuple[tuple[int, int], ...]]) -> tuple[tuple[int, int], ...]:
    """The generators' series added interval by interval (they start together)."""
    length = max((len(s) for s in series), default=0)
    return tuple(
        (
            sum(s[i][0] for s in series if i < len(s)),
            sum(s[i][1] for s in series if i < len(s)),
        )
        for i in range(length)
    )


def _csv_parts(config: LoadConfig) -> tuple[str, ...]:
    """Where each generator writes its per-request rows, if asked to."""
    if config.csv_path is None:
        return ()
    return tuple(f"{config.csv_path}.part{k}" for k in range(config.processes))


def combine(snapshots: list[Progress]) -> Progress:
    """Several processes' progress as one: counts add up; percentiles are approximate."""
    requests = sum(s.requests for s in snapshots)
    weight = max(requests, 1)
    return Progress(
        elapsed_s=max(s.elapsed_s for s in snapshots),
        requests=requests,
        errors=sum(s.errors for s in snapshots),
        p50_ms=sum(s.p50_ms * s.requests for s in snapshots) / weight,
        p99_ms=max(s.p99_ms for s in snapshots),
    )
