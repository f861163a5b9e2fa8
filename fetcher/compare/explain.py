"""Plain sentences, drawn from measured numbers, that say why the strategies differ.

Each sentence has a trigger (a figure the run shows) and quotes that figure; a run that does not
show it gets no sentence. The words match the legend under the table (`fetcher.render.compare`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fetcher.compare.machine import Conditions
from fetcher.compare.summary import RunSummary
from fetcher.strategies import STRATEGIES

MB = 1024 * 1024
# Against an ideal of a few ms, the fixed cost of any run dwarfs it; the ratio says nothing.
MIN_IDEAL_S = 0.05
# A median this much over the injected latency (and QUEUED_EXTRA_MS more) is worth a sentence.
QUEUED_RATIO = 1.2
QUEUED_EXTRA_MS = 5.0
# Start-ups shorter than this are not worth a sentence.
NOTABLE_STARTUP_S = 0.03

# Strategies that overlap waits in one interpreter, and those whose Python runs on several cores.
GIL_BOUND = tuple(t.name for t in STRATEGIES.values() if t.concurrent and not t.multiprocess)
MULTICORE = tuple(t.name for t in STRATEGIES.values() if t.multiprocess)
ASYNC = tuple(t.name for t in STRATEGIES.values() if t.asynchronous)
# What start-up pays for, by strategy, for the sentence that quotes it.
STARTUP_COSTS = {
    "threads": "starting threads and their sessions",
    "asyncio-aiohttp": "opening its session",
    "asyncio-httpx": "building its clients and their TLS context",
    "processes": "spawning interpreters that import their HTTP client",
    "hybrid": "spawning interpreters that import their HTTP client",
    "dask": "starting a LocalCluster: a scheduler and a worker process per core",
}

Sentence = Callable[[dict[str, RunSummary], Conditions], str | None]


def explain(summaries: Sequence[RunSummary], conditions: Conditions) -> list[str]:
    """A few sentences explaining a comparison; each quotes the numbers it rests on."""
    by_name = {s.strategy: s for s in summaries}
    return [text for sentence in SENTENCES if (text := sentence(by_name, conditions))]


def _machine(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """What this machine decided: the Python build, the cores and so the processes, the loop."""
    build = "with the GIL" if conditions.gil else "free-threaded, GIL off"
    text = f"This machine: {conditions.python} {build}, {conditions.cpu_count} CPU cores"
    if any(name in by_name for name in ASYNC):
        loop = conditions.event_loop
        text += ", event loop " + (
            loop if loop == "uvloop" else f"{loop}'s own (uvloop not installed)"
        )
    started = [name for name in MULTICORE if name in by_name]
    if started:
        why = "from --processes"
        if conditions.processes == conditions.cpu_count:
            why = "one per core, the default"
        text += (
            f"; {' and '.join(started)} started {conditions.processes} worker processes "
            f"({why}), so on another machine their rows change"
        )
    return text + "."


def _overlap(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """The fastest single-process concurrent strategy, and why waits overlap."""
    best = _fastest(by_name, GIL_BOUND)
    if best is None:
        return None
    seen = best.server_peak_in_flight
    held = (
        f"the server saw {seen} requests in flight at once"
        if seen is not None
        else f"up to {best.workers} requests were in flight at once"
    )
    text = f"{best.strategy} finished in {best.wall_s:.2f} s: {held}, so their waits overlapped"
    sequential = by_name.get("sequential")
    if sequential is not None:
        text += (
            f", where sequential waited for each in turn ({sequential.wall_s:.2f} s, "
            f"{sequential.wall_s / best.wall_s:.1f}x longer)"
        )
    if best.efficiency is not None and (best.ideal_s or 0) >= MIN_IDEAL_S:
        text += (
            f"; its efficiency is {best.efficiency:.0%}: the ideal {best.ideal_s:.2f} s over "
            f"its {best.wall_s:.2f} s"
        )
    return text + "."


def _ramp(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """A pool whose server-side peak stayed below its workers: it never had them all busy."""
    short = [
        s
        for s in by_name.values()
        if s.strategy in GIL_BOUND
        and s.server_peak_in_flight is not None
        and s.server_peak_in_flight < s.workers
    ]
    if not short:
        return None
    parts = [
        f"{s.strategy} reached {s.server_peak_in_flight} of its {s.workers} workers at once "
        f"(its client peaked at {s.client_peak_in_flight}, {s.peak_reached_s:.2f} s in)"
        for s in short
    ]
    return (
        f"In flight below workers: {'; '.join(parts)}. Starting the workers and their "
        "connections took about as long as the first responses, so early workers were free "
        "for a second URL before the last ones began."
    )


def _queued(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """Medians well over the injected latency: time spent waiting inside the client."""
    latency_ms = (conditions.latency_s or 0) * 1000
    if not latency_ms:
        return None
    slow = [
        s
        for s in by_name.values()
        if s.p50_ms == s.p50_ms  # not NaN: some request succeeded
        and s.p50_ms > latency_ms * QUEUED_RATIO + QUEUED_EXTRA_MS
    ]
    if not slow:
        return None
    parts = [f"{s.strategy} (p50 {s.p50_ms:.0f} ms{_cpu_per_request(s)})" for s in slow]
    return (
        f"Requests took longer than the {latency_ms:g} ms injected in {', '.join(parts)}: a "
        "request's time runs from when a worker takes it to its last byte, so time queued in "
        "the client (for the event loop, the GIL or a connection) counts too; the more CPU per "
        "request, the longer the queue."
    )


def _cpu_work(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """The total CPU work, and why one interpreter cannot finish under it."""
    single = [by_name[n] for n in GIL_BOUND if n in by_name]
    if conditions.cpu_ms <= 0 or not single:
        return None
    requests, cpu_ms = single[0].requests, conditions.cpu_ms
    total_s = requests * cpu_ms / 1000
    walls = ", ".join(f"{s.strategy} {s.wall_s:.2f} s" for s in single)
    return (
        f"Each response cost {cpu_ms:g} ms of Python with the GIL held, {requests} x {cpu_ms:g} ms "
        f"= {total_s:.2f} s of CPU in all, which one interpreter runs on one core whatever "
        f"its threads or tasks: so {walls}, none under {total_s:.2f} s."
    )


def _multicore(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """Processes under CPU work: how they won, or why they did not."""
    best = _fastest(by_name, MULTICORE)
    if conditions.cpu_ms <= 0 or best is None:
        return None
    if not _multicore_wins(by_name):
        cores = best.cpu_s / best.wall_s if best.wall_s > 0 else 0.0
        return (
            f"{best.strategy} can run the work on several cores, an interpreter and a GIL per "
            f"process, yet took {best.wall_s:.2f} s with {cores:.1f} cores busy on average: its "
            f"{best.startup_s:.2f} s of start-up and the waits outweighed the work here, or the "
            "machine had no free core to give it."
        )
    others = ", ".join(
        f"{s.strategy} {s.wall_s:.2f} s"
        for name, s in by_name.items()
        if name in MULTICORE and s is not best
    )
    return (
        f"{best.strategy} won in {best.wall_s:.2f} s{f' ({others})' if others else ''}: "
        f"each process has its own interpreter and GIL, so the work ran on several cores at "
        f"once ({best.cpu_s:.2f} s of CPU in {best.wall_s:.2f} s of wall time), which paid "
        f"for the {best.startup_s:.2f} s of start-up{_heavier(best, by_name)}."
    )


def _processes(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """Processes on a batch that only waits: one request per process."""
    processes = by_name.get("processes")
    if processes is None or conditions.cpu_ms > 0:
        return None
    text = (
        f"processes overlapped only {processes.workers} requests at a time, one per process, "
        f"and took {processes.wall_s:.2f} s: a process adds an interpreter and a GIL, which "
        f"does nothing for waiting. Starting them cost {processes.startup_s:.2f} s before the "
        f"first request"
    )
    return text + _heavier(processes, by_name) + "."


def _hybrid(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """hybrid: what it paid, what it overlapped, and when it is worth it."""
    hybrid = by_name.get("hybrid")
    if hybrid is None or (conditions.cpu_ms > 0 and _multicore_wins(by_name)):
        return None
    text = (
        f"hybrid runs an event loop in each of its processes: {hybrid.startup_s:.2f} s to start "
        f"them, then up to {hybrid.workers} requests in flight"
    )
    if hybrid.server_peak_in_flight is not None:
        text += f" (the server saw {hybrid.server_peak_in_flight}"
        spread = hybrid.process_start_spread_s
        if hybrid.server_peak_in_flight < hybrid.workers and spread:
            text += f": its processes began {spread:.2f} s apart, so their shares overlapped less"
        text += ")"
    loop = by_name.get("asyncio-aiohttp")
    if loop is not None and loop.wall_s < hybrid.wall_s:
        text += (
            f". On a batch that only waits one event loop already overlaps every request, so "
            f"hybrid was slower ({hybrid.wall_s:.2f} s against {loop.wall_s:.2f} s for "
            f"asyncio-aiohttp) and heavier ({_mb(hybrid)} against {_mb(loop)} MB)"
        )
    return (
        text + "; it wins once each response needs more CPU than one core can give "
        "(try --cpu-ms 20), or the batch is larger than one loop can drive."
    )


def _dask(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """dask on one machine: what the cluster cost against hybrid, and when it wins."""
    dask = by_name.get("dask")
    if dask is None:
        return None
    text = (
        f"dask ran the batch in chunks on a LocalCluster: {dask.startup_s:.2f} s to start its "
        f"scheduler and workers, {dask.wall_s:.2f} s in all"
    )
    hybrid = by_name.get("hybrid")
    if hybrid is not None and hybrid.wall_s > 0:
        text += (
            f", {dask.wall_s / hybrid.wall_s:.2f}x hybrid's {hybrid.wall_s:.2f} s with the same "
            "loop in each process"
        )
    return (
        text + "; on one machine that is all cost (the same cores, plus a scheduler and results "
        "sent back a chunk at a time): it wins once one machine's cores or network are the "
        "limit and the workers run on several (--scheduler, docs/distributed.md)."
    )


def _startup(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """Start-ups worth naming: the time to the first request, and what it paid for."""
    notable = [
        s
        for s in by_name.values()
        if s.startup_s >= NOTABLE_STARTUP_S and s.strategy in STARTUP_COSTS
    ]
    if not notable:
        return None
    parts = [f"{s.strategy} {s.startup_s:.2f} s ({STARTUP_COSTS[s.strategy]})" for s in notable]
    return f"Start-up, the time before the first request went out: {'; '.join(parts)}."


def _httpx(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """httpx's CPU per request against aiohttp's."""
    httpx_run, aiohttp_run = by_name.get("asyncio-httpx"), by_name.get("asyncio-aiohttp")
    if httpx_run is None or aiohttp_run is None or aiohttp_run.cpu_s <= 0:
        return None
    ratio = httpx_run.cpu_s / aiohttp_run.cpu_s
    if ratio < 1.5:
        return None
    return (
        f"asyncio-httpx used {httpx_run.cpu_s:.2f} s of CPU against {aiohttp_run.cpu_s:.2f} s for "
        f"asyncio-aiohttp ({ratio:.1f}x): httpx's connection pool costs more Python per request, "
        "which shows once the event loop is busy."
    )


def _handshakes(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """Over TLS, when handshakes were paid for half the requests or more, by whom and why."""
    counted = [s for s in by_name.values() if s.handshakes and s.requests]
    heavy = [s for s in counted if 2 * (s.handshakes or 0) >= s.requests]
    if not heavy:
        return None
    named = ", ".join(f"{s.strategy} {s.handshakes} for {s.requests}" for s in heavy[:3])
    # A worker keeps its connection; more handshakes than workers means connections were not kept.
    why = (
        "a connection per request (--no-keepalive, or a new session each time) pays one every time"
        if any((s.handshakes or 0) > s.workers for s in heavy)
        else "each worker opened its own connection and the batch was too short to reuse it much"
    )
    text = (
        f"TLS handshakes were paid for most requests ({named}): {why}, and each costs about 1 ms "
        "of CPU at each end (scripts/bench_tls.py)"
    )
    thrifty = min(counted, key=lambda s: (s.handshakes or 0) / s.requests)
    if thrifty not in heavy:
        text += (
            f", where {thrifty.strategy} kept its connections alive: {thrifty.handshakes} "
            f"for {thrifty.requests} requests"
        )
    return text + "."


def _failures(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """The strategy with the most failures, by kind."""
    failing = [s for s in by_name.values() if s.failed]
    if not failing:
        return None
    worst = max(failing, key=lambda s: s.failed)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(worst.errors.items()))
    return (
        f"{worst.strategy} had {worst.failed} failed requests ({kinds}); "
        "failures are results, not crashes."
    )


def _noise(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """Repeats, or a busy machine that calls for them."""
    if conditions.repeat > 1:
        return (
            f"Each strategy ran {conditions.repeat} times: wall s is the median run, with the "
            "fastest and slowest in brackets; the other figures are the median run's."
        )
    if not conditions.busy:
        return None
    load = (conditions.load_per_core or 0) * conditions.cpu_count
    return (
        f"Other programs were busy when this started (load average {load:.1f} on "
        f"{conditions.cpu_count} cores): figures move between runs on a busy machine; "
        "--repeat 3 runs each strategy three times and shows the range."
    )


def _gil(by_name: dict[str, RunSummary], conditions: Conditions) -> str | None:
    """The rule the comparison illustrates."""
    if conditions.cpu_ms > 0 and _multicore_wins(by_name):
        return (
            "The GIL lets one thread run Python at a time: waits overlap in threads and in an "
            "event loop, but the work on each response does not, so once that work outweighs "
            "the waiting, only more interpreters (processes) make the batch faster."
        )
    return (
        "The GIL lets one thread run Python at a time, but a thread waiting on a socket releases "
        "it, so waiting overlaps in threads and in an event loop alike; it is CPU work that the "
        "GIL serialises, which `fetcher gil` shows."
    )


SENTENCES: tuple[Sentence, ...] = (
    _machine,
    _overlap,
    _ramp,
    _queued,
    _cpu_work,
    _multicore,
    _processes,
    _hybrid,
    _dask,
    _startup,
    _httpx,
    _handshakes,
    _failures,
    _noise,
    _gil,
)


def _fastest(by_name: dict[str, RunSummary], names: Sequence[str]) -> RunSummary | None:
    """The quickest run among the strategies named, or None when none of them ran."""
    runs = [by_name[n] for n in names if n in by_name]
    return min(runs, key=lambda s: s.wall_s) if runs else None


def _multicore_wins(by_name: dict[str, RunSummary]) -> bool:
    """True when a processes or hybrid run beat every single-GIL run."""
    single = [by_name[n].wall_s for n in GIL_BOUND if n in by_name]
    multi = [by_name[n].wall_s for n in MULTICORE if n in by_name]
    return bool(single and multi) and min(multi) < min(single)


def _heavier(run: RunSummary, by_name: dict[str, RunSummary]) -> str:
    """`, and N MB more memory than X`, against a single-process concurrent run, if lighter."""
    lighter = by_name.get("threads") or by_name.get("asyncio-aiohttp")
    if lighter is None or run.peak_rss_bytes <= lighter.peak_rss_bytes:
        return ""
    extra_mb = (run.peak_rss_bytes - lighter.peak_rss_bytes) / MB
    return f", and {extra_mb:.0f} MB more memory than {lighter.strategy}"


def _cpu_per_request(run: RunSummary) -> str:
    """`, 0.45 ms of CPU per request`, for a strategy in one process (where its CPU is the
    requests'; worker processes also spend theirs starting up)."""
    if run.strategy in MULTICORE:
        return ""
    return f", {1000 * run.cpu_s / max(run.requests, 1):.2f} ms of CPU per request"


def _mb(run: RunSummary) -> str:
    return f"{run.peak_rss_bytes / MB:.0f}"
