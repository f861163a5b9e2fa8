"""Plain sentences, drawn from measured numbers, that say why the strategies differ."""

from __future__ import annotations

from collections.abc import Sequence

from fetcher.compare.summary import RunSummary
from fetcher.strategies import STRATEGIES

MB = 1024 * 1024
MIN_IDEAL_S = 0.05

# Strategies that overlap waits in one interpreter, and those whose Python runs on several cores.
GIL_BOUND = tuple(t.name for t in STRATEGIES.values() if t.concurrent and not t.multiprocess)
MULTICORE = tuple(t.name for t in STRATEGIES.values() if t.multiprocess)


def explain(
    summaries: Sequence[RunSummary], latency_s: float | None, cpu_ms: float = 0.0
) -> list[str]:
    """A few sentences explaining a comparison; each quotes the numbers it rests on."""
    by_name = {s.strategy: s for s in summaries}
    cpu_bound = cpu_ms > 0 and _multicore_wins(by_name)
    sentences = [
        sentence
        for sentence in (
            _overlap(by_name, latency_s),
            _cpu_work(by_name, cpu_ms) if cpu_ms > 0 else None,
            _processes_cpu_bound(by_name) if cpu_bound else None,
            _processes_short(by_name) if cpu_ms > 0 and not cpu_bound else None,
            _processes(by_name) if cpu_ms <= 0 else None,
            _hybrid(by_name),
            _httpx(by_name),
            _handshakes(summaries),
            _failures(summaries),
        )
        if sentence
    ]
    sentences.append(_gil(cpu_bound))
    return sentences


def _gil(cpu_bound: bool) -> str:
    if cpu_bound:
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


def _multicore_wins(by_name: dict[str, RunSummary]) -> bool:
    """True when a processes or hybrid run beat every single-GIL run."""
    single = [by_name[n].wall_s for n in GIL_BOUND if n in by_name]
    multi = [by_name[n].wall_s for n in MULTICORE if n in by_name]
    return bool(single and multi) and min(multi) < min(single)


def _cpu_work(by_name: dict[str, RunSummary], cpu_ms: float) -> str | None:
    single = [by_name[n] for n in GIL_BOUND if n in by_name]
    if not single:
        return None
    requests = single[0].requests
    total_s = requests * cpu_ms / 1000
    walls = ", ".join(f"{s.strategy} {s.wall_s:.2f} s" for s in single)
    return (
        f"Each response cost {cpu_ms:g} ms of Python with the GIL held, {requests} x {cpu_ms:g} ms "
        f"= {total_s:.2f} s of CPU in all, which one interpreter runs on one core whatever "
        f"its threads or tasks: so {walls}, none under {total_s:.2f} s."
    )


def _fastest(by_name: dict[str, RunSummary], names: Sequence[str]) -> RunSummary | None:
    """The quickest run among the strategies named, or None when none of them ran."""
    runs = [by_name[n] for n in names if n in by_name]
    return min(runs, key=lambda s: s.wall_s) if runs else None


def _processes_cpu_bound(by_name: dict[str, RunSummary]) -> str | None:
    best = _fastest(by_name, MULTICORE)
    if best is None:
        return None
    others = ", ".join(
        f"{s.strategy} {s.wall_s:.2f} s"
        for name, s in by_name.items()
        if name in MULTICORE and s is not best
    )
    text = (
        f"{best.strategy} won in {best.wall_s:.2f} s{f' ({others})' if others else ''}: "
        f"each process has its own interpreter and GIL, so the work ran on several cores at "
        f"once ({best.cpu_s:.2f} s of CPU in {best.wall_s:.2f} s of wall time), which paid "
        f"for the {best.startup_s:.2f} s of start-up"
    )
    lighter = by_name.get("asyncio-aiohttp") or by_name.get("threads")
    if lighter is not None and best.peak_rss_bytes > lighter.peak_rss_bytes:
        extra_mb = (best.peak_rss_bytes - lighter.peak_rss_bytes) / MB
        text += f" and {extra_mb:.0f} MB more memory than {lighter.strategy}"
    return text + "."


def _processes_short(by_name: dict[str, RunSummary]) -> str | None:
    """CPU work per response, yet processes did not win: say what they were up against."""
    best = _fastest(by_name, MULTICORE)
    if best is None:
        return None
    cores = best.cpu_s / best.wall_s if best.wall_s > 0 else 0.0
    return (
        f"{best.strategy} can run the work on several cores, an interpreter and a GIL per "
        f"process, yet took {best.wall_s:.2f} s with {cores:.1f} cores busy on average: its "
        f"{best.startup_s:.2f} s of start-up and the waits outweighed the work here, or the "
        "machine had no free core to give it."
    )


def _hybrid(by_name: dict[str, RunSummary]) -> str | None:
    hybrid = by_name.get("hybrid")
    if hybrid is None or hybrid.server_peak_in_flight is None:
        return None
    return (
        f"hybrid ran an event loop in each process: the server saw "
        f"{hybrid.server_peak_in_flight} requests in flight at once from it, where processes "
        "alone hold one per process."
    )


def _overlap(by_name: dict[str, RunSummary], latency_s: float | None) -> str | None:
    sequential = by_name.get("sequential")
    best = _fastest(by_name, ("asyncio-aiohttp", "threads"))
    if best is None:
        return None
    seen = best.server_peak_in_flight
    held = (
        f"the server saw {seen} requests in flight at once"
        if seen is not None
        else (f"up to {best.workers} requests were in flight at once")
    )
    text = f"{best.strategy} finished in {best.wall_s:.2f} s: {held}, so their waits overlapped"
    if sequential is not None:
        text += (
            f", where sequential waited for each in turn ({sequential.wall_s:.2f} s, "
            f"{sequential.wall_s / best.wall_s:.1f}x longer)"
        )
    # Against an ideal of a few ms, the fixed cost of any run dwarfs it; the ratio says nothing.
    if best.efficiency is not None and latency_s and (best.ideal_s or 0) >= MIN_IDEAL_S:
        text += f"; that is {best.efficiency:.0%} of the ideal {best.ideal_s:.2f} s"
    return text + "."


def _processes(by_name: dict[str, RunSummary]) -> str | None:
    processes = by_name.get("processes")
    if processes is None:
        return None
    text = (
        f"processes overlapped only {processes.workers} requests at a time, one per process, "
        f"and took {processes.wall_s:.2f} s: a process adds an interpreter and a GIL, which "
        f"does nothing for waiting. Starting them cost {processes.startup_s:.2f} s before the "
        f"first request"
    )
    lighter = by_name.get("threads") or by_name.get("asyncio-aiohttp")
    if lighter is not None and processes.peak_rss_bytes > lighter.peak_rss_bytes:
        extra_mb = (processes.peak_rss_bytes - lighter.peak_rss_bytes) / MB
        text += (
            f", and they used {extra_mb:.0f} MB more memory than {lighter.strategy} "
            f"with {lighter.workers} workers"
        )
    return text + "."


def _httpx(by_name: dict[str, RunSummary]) -> str | None:
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


def _failures(summaries: Sequence[RunSummary]) -> str | None:
    failing = [s for s in summaries if s.failed]
    if not failing:
        return None
    worst = max(failing, key=lambda s: s.failed)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(worst.errors.items()))
    return (
        f"{worst.strategy} had {worst.failed} failed requests ({kinds}); "
        "failures are results, not crashes."
    )


def _handshakes(summaries: Sequence[RunSummary]) -> str | None:
    """Over TLS, when handshakes were paid for half the requests or more, by whom and why."""
    counted = [s for s in summaries if s.handshakes and s.requests]
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
