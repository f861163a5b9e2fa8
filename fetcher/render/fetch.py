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
