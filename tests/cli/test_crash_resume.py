"""`fetcher fetch --resume` after SIGKILL at random moments: nothing lost, nothing doubled, no
torn record, however many times the run is killed."""

from __future__ import annotations

import json
import random
import signal
from collections import Counter
from pathlib import Path

import pytest

from mock_server import MockServer
from tests.conftest import FETCHER, WAIT_S, start, wait_until

URLS = 400
MAX_KILLS = 12
SEED = 12


def file_size(path: Path) -> int:
    """The results file's size in bytes (0 before it exists)."""
    return path.stat().st_size if path.exists() else 0


def kill_when_written(argv: list[str], out: Path, target_bytes: int) -> int | None:
    """Run the command; SIGKILL it once `out` has grown to `target_bytes`. Its exit status if it
    ended first, else None."""
    process = start(argv)
    try:
        wait_until(
            lambda: process.poll() is not None or file_size(out) >= target_bytes,
            f"{out.name} to reach {target_bytes} bytes",
        )
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=WAIT_S)
            return None
        process.communicate(timeout=WAIT_S)
        return process.returncode
    finally:
        process.kill()
        process.communicate()


def tear_last_line(out: Path, rng: random.Random) -> None:
    """Cut the file inside its last line, as a kill in the middle of a write leaves it."""
    data = out.read_bytes()
    if data.count(b"\n") < 1:
        return
    start_of_last = data.rstrip(b"\n").rfind(b"\n") + 1
    out.write_bytes(data[: rng.randrange(start_of_last + 1, len(data))])


@pytest.mark.parametrize("strategy", ["asyncio-aiohttp", "threads"])
def test_sigkill_at_random_moments_then_resume_leaves_one_ok_line_per_url(
    server: MockServer, tmp_path: Path, strategy: str
) -> None:
    """Killed again and again (seeded), each time resumed: at the end every line parses and every
    URL has exactly one OK line."""
    rng = random.Random(SEED)
    urls = [server.url_for(f"/items/{i}?latency=5ms") for i in range(URLS)]
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    out = tmp_path / "results.jsonl"
    argv = [*FETCHER, "fetch", str(urls_file), "--quiet", "--resume", str(out)]
    argv += ["--strategy", strategy, "--concurrency", "4"]
    kills = 0
    code = None
    while code is None and kills < MAX_KILLS:
        code = kill_when_written(argv, out, file_size(out) + rng.randrange(1, 12_000))
        if code is None:
            kills += 1
            if rng.random() < 0.5:
                tear_last_line(out, rng)
    if code is None:  # a last run, left to finish
        code = kill_when_written(argv, out, 1 << 62)
    assert code == 0
    assert kills >= 3  # the test did kill runs part-way
    records = [json.loads(line) for line in out.read_text().splitlines()]  # every line parses
    ok = Counter(r["index"] for r in records if r["error"] is None)
    assert sorted(ok) == list(range(URLS))
    assert set(ok.values()) == {1}
    assert all(r["url"] == urls[r["index"]] for r in records)
