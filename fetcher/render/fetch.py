"""What `fetcher fetch` prints on stderr when it ends."""

from __future__ import annotations

from collections import Counter


def fetch_summary(results_count: int, ok: int, errors: Counter[str], wall_s: float) -> str:
    """The one-paragraph summary `fetcher fetch` prints at the end, complete or interrupted."""
    rate = results_count / wall_s if wall_s > 0 else 0.0
    failed = results_count - ok
    text = f"{results_count} results in {wall_s:.2f} s ({rate:.0f}/s): {ok} ok, {failed} failed"
    if errors:
        text += " (" + ", ".join(f"{kind} {count}" for kind, count in errors.most_common()) + ")"
    return text


def retries_note(retried: int, retries: int) -> str:
    """What the summary adds when `retried` results took `retries` attempts past their first:
    their backoff and Retry-After waits are part of its time."""
    if not retried:
        return ""
    attempts = f"{retries} more attempt{'s' if retries > 1 else ''}"
    return f"; {retried} retried ({attempts}, with their backoff and Retry-After waits)"
