"""What limited a `fetcher load` run, with the evidence, in the report's words.

A load test that misses its target rate (or moves less load than asked) was held back by one of
these: the generator's own CPU (it could not send faster), the cap on requests in flight (`-c`:
every slot was waiting on an answer), the target (its latency grew as requests piled up, or it
answered nothing), the machine (its cores were all busy, so the generator waited for one to
keep its schedule), or the generator's schedule itself (its starts slipped in pauses while the
target kept up). Each leaves a trace in what the run measured; the verdict names the one the
trace shows, quotes it, and says what to try.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fetcher.load.generator import POOL_FLOOR
from fetcher.load.results import LoadResult

# The rate counts as reached within this share of the target, with this few late starts.
RATE_REACHED = 0.98
LATE_SHARE_OK = 0.01
# A generator using this much of a core (CPU time over elapsed time) was the bottleneck.
CPU_BOUND = 0.9
# Latency "rose" when the last quarter's mean is this many times the first quarter's, and more
# than RISE_MIN_MS above it.
RISE_RATIO = 2.0
RISE_MIN_MS = 5.0
# A share of failed requests the verdict mentions, whatever limited the run.
FAILED_SHARE_NOTED = 0.01
# A target that answered nothing in the last quarter of the sending window, when at least this
# many requests fell due in it, fell silent (at lower rates a quarter may hold no request).
SILENT_MIN_DUE = 5
# The machine's cores were all taken when this share of their time was busy during the run.
MACHINE_BUSY = 0.9


@dataclass(frozen=True)
class Verdict:
    """Whether the target rate was reached, what limited the run, and the sentence saying so."""

    target_reached: bool | None
    limited_by: str
    text: str


def verdict(result: LoadResult, interval_s: float) -> Verdict:
    """The verdict of a run; `interval_s` is the spacing of its latency series. Failures over
    FAILED_SHARE_NOTED are named after it, whatever limited the run."""
    config = result.config
    if result.requests and not result.status:
        return Verdict(None if config.rate is None else False, "target", _unanswered(result))
    first_ms, last_ms = latency_trend_ms(result.series, result.sending_s, interval_s)
    if config.rate is None:
        judged = _closed(result, first_ms, last_ms)
    else:
        judged = _open(result, first_ms, last_ms)
    failed = sum(result.errors.values())
    if result.requests and failed / result.requests >= FAILED_SHARE_NOTED:
        text = (
            f"{judged.text} Of the {result.requests:,} requests done, "
            f"{failed / result.requests:.1%} failed ({error_counts(result.errors)}); the achieved "
            "rate counts them."
        )
        judged = Verdict(judged.target_reached, judged.limited_by, text)
    return judged


def _open(result: LoadResult, first_ms: float, last_ms: float) -> Verdict:
    """The open model: was the rate reached, and if not, what held it back?"""
    config, cpu = result.config, result.generator_cpu
    assert config.rate is not None
    rising = _rising(first_ms, last_ms)
    cap_full = result.peak_in_flight >= config.concurrency
    # Requests in flight the rate needs at the last quarter's latency (Little's law).
    need = config.rate * last_ms / 1000
    rate = result.sent / result.sending_s if result.sending_s > 0 else 0.0
    late = result.late_starts / result.sent if result.sent else 0.0
    shortfall = f"{rate:,.0f}/s of the {config.rate:,.0f}/s asked, {late:.2%} of starts late"
    if rate >= config.rate * RATE_REACHED and late < LATE_SHARE_OK:
        return Verdict(True, "none", f"target reached: {shortfall}.")
    shortfall += (
        f"; reached means at least {RATE_REACHED:.0%} of it sent, under {LATE_SHARE_OK:.0%} of "
        "starts late"
    )
    if cpu >= CPU_BOUND:
        return Verdict(False, "generator_cpu", f"target not reached ({shortfall}): " + _cpu(result))
    if last_ms == 0.0 and config.rate * result.sending_s / 4 >= SILENT_MIN_DUE:
        text = f"target not reached ({shortfall}): " + _fell_silent(result, first_ms)
        return Verdict(False, "target", text)
    if cap_full and not rising:
        text = (
            f"target not reached ({shortfall}): limited by the cap on requests in flight: all "
            f"{config.concurrency} were waiting on answers ({last_ms:,.1f} ms each; "
            f"{config.rate:,.0f}/s needs about {need:,.0f} in flight); raise -c."
        )
        return Verdict(False, "in_flight_cap", text)
    busy = result.machine_busy
    if not rising and busy is not None and busy >= MACHINE_BUSY:
        text = (
            f"target not reached ({shortfall}): the generator fell behind its schedule "
            f"({_used(result)}, with {result.peak_in_flight:,} of {config.concurrency:,} "
            f"in flight and the target's latency steady): this machine's cores were {busy:.0%} "
            "busy during the run (the generator, a target on this machine and other programs "
            "together), so it waited for a core. Run it where a core is free for it."
        )
        return Verdict(False, "machine", text)
    # A full pool that could carry the rate at the target's latency was filled by a backlog
    # (the generator's pause), not by the target: the verdicts below name the target if its
    # latency rose, else the schedule.
    pool_full = 0 < result.pool < config.concurrency and result.peak_in_flight >= result.pool
    if pool_full and result.pool < need:
        return Verdict(False, "pool", _pool(result, shortfall, first_ms, last_ms))
    if not rising:
        return Verdict(False, "schedule", _slipped(result, shortfall, first_ms, last_ms))
    text = (
        f"target not reached ({shortfall}): limited by the target: its mean latency went from "
        f"{first_ms:,.1f} ms in the first quarter of the run to {last_ms:,.1f} ms in the last "
        f"as requests piled up ({result.peak_in_flight:,} in flight at most) and it answered "
        f"{_answered_per_s(result):,.0f}/s; {_used(result)}. Try a lower --rate."
    )
    return Verdict(False, "target", text)


def error_counts(errors: Mapping[str, int]) -> str:
    """Failed requests by kind, as the report says them: `20 connection_refused, 3 timeout`."""
    return ", ".join(f"{count:,} {kind}" for kind, count in errors.items())


def _unanswered(result: LoadResult) -> str:
    """Not one request got an answer: the run measured the target's absence, not its speed."""
    return (
        f"limited by the target: it answered none of the {result.requests:,} requests "
        f"({error_counts(result.errors)}), so this run measured no speed; check that it is up "
        "at that address."
    )


def _fell_silent(result: LoadResult, first_ms: float) -> str:
    """No answer in the last quarter of the sending window: the target stopped answering (its
    failures, if any, are named after the verdict)."""
    hung = (
        f", and {result.unfinished:,} unfinished: every request still in flight waited on an "
        "answer that did not come"
        if result.unfinished
        else ""
    )
    return (
        "limited by the target: it answered nothing in the last quarter of the run (mean "
        f"latency {first_ms:,.1f} ms in the first quarter), with {result.peak_in_flight:,} in "
        f"flight at most{hung}. Check that it is still up."
    )


def _slipped(result: LoadResult, shortfall: str, first_ms: float, last_ms: float) -> str:
    """Late starts while the target kept up and the generator was not saturated: pauses of the
    generator's process or machine, which it could not catch up on in time."""
    lag_ms = result.start_lag.get_value_at_percentile(99) / 1000
    cpu = result.generator_cpu
    room = f"; at {cpu:.0%} of a core it had little room to catch up" if cpu >= 0.7 else ""
    return (
        f"target not reached ({shortfall}): the target kept up (mean latency {first_ms:,.1f} ms "
        f"in the first quarter, {last_ms:,.1f} ms in the last; it answered "
        f"{_answered_per_s(result):,.0f}/s), but the generator's schedule slipped: 1% of starts "
        f"lagged over {lag_ms:,.1f} ms, in pauses of this process or machine{room}. Run it "
        "again or on a quieter machine, or ask a lower --rate."
    )


def _closed(result: LoadResult, first_ms: float, last_ms: float) -> Verdict:
    """The closed model asks for no rate: was the generator or the target the limit?"""
    if result.generator_cpu >= CPU_BOUND:
        return Verdict(None, "generator_cpu", _cpu(result))
    config = result.config
    # Silent: no answer in a last quarter long enough for each connection to have had several
    # at the first quarter's latency.
    quarter_s = result.sending_s / 4
    if last_ms == 0.0 and config.connections * quarter_s * 1000 >= first_ms * SILENT_MIN_DUE > 0:
        return Verdict(None, "target", _fell_silent(result, first_ms))
    answered = _answered_per_s(result)
    pipelined = f" (up to {config.pipeline} pipelined on each)" if config.pipeline > 1 else ""
    connections = _count(config.connections, "connection") + pipelined
    if _rising(first_ms, last_ms):
        text = (
            f"limited by the target, which is saturated: its mean latency rose from "
            f"{first_ms:,.1f} ms in the first quarter of the run to {last_ms:,.1f} ms in the last "
            f"while {connections} kept it busy and it answered {answered:,.0f}/s; "
            f"{_used(result)}. More connections would only wait longer."
        )
        return Verdict(None, "target", text)
    text = (
        f"limited by the target: {_used(result)}, so its {connections} "
        f"{'was' if config.connections == 1 else 'were each'} waiting on the target's answers "
        f"({_mean_ms(list(result.series)):,.1f} ms each on average; it answered "
        f"{answered:,.0f}/s). Raise -c to press harder: if requests/s then stays flat while "
        f"latency grows, the target is saturated at about {answered:,.0f}/s."
    )
    return Verdict(None, "target", text)


def _pool(result: LoadResult, shortfall: str, first_ms: float, last_ms: float) -> str:
    """The open model's pool was full: latency rose past what it was sized for."""
    return (
        f"target not reached ({shortfall}): the open model's pool was full, all "
        f"{result.pool:,} requests it holds in flight waiting on answers, whose latency went from "
        f"{first_ms:,.1f} ms to {last_ms:,.1f} ms; the pool is twice what the rate needs at the "
        f"quickest latency seen, and at least {POOL_FLOOR} (opening more when behind makes every "
        "request dearer), so the target or this machine could not keep up. Try a lower --rate."
    )


def _cpu(result: LoadResult) -> str:
    return (
        f"limited by the generator's CPU: {_used(result)}, so it could not send faster; add "
        "--processes (a generator per core), or use a lighter client."
    )


def _used(result: LoadResult) -> str:
    """'the generator used 37% of a core', or with processes the busiest one's share (each
    has a core of its own to use)."""
    n = result.config.processes
    who = f"the busiest of its {n} generators" if n > 1 else "the generator"
    return f"{who} used {result.generator_cpu:.0%} of a core"


def _rising(first_ms: float, last_ms: float) -> bool:
    """Whether latency rose from the first quarter of the run to the last (see RISE_RATIO); not
    when the first quarter had no answer to compare with (answers slower than a quarter)."""
    return first_ms > 0 and last_ms >= first_ms * RISE_RATIO and last_ms - first_ms > RISE_MIN_MS


def _answered_per_s(result: LoadResult) -> float:
    """HTTP answers (any status) a second: the requests that failed without one left out."""
    return result.responses / result.duration_s if result.duration_s > 0 else 0.0


def _count(n: int, noun: str) -> str:
    """'1 connection', '64 connections'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def latency_trend_ms(
    series: tuple[tuple[int, int], ...], sending_s: float, interval_s: float
) -> tuple[float, float]:
    """Mean latency (ms) of the sending window's first quarter and of its last quarter."""
    window = [point for i, point in enumerate(series) if i * interval_s < sending_s] or list(series)
    quarter = max(1, len(window) // 4)
    return _mean_ms(window[:quarter]), _mean_ms(window[-quarter:])


def _mean_ms(points: list[tuple[int, int]]) -> float:
    count = sum(n for n, _ in points)
    return sum(total for _, total in points) / count / 1000 if count else 0.0
