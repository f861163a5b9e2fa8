"""Pure-Python work per response, so a batch can be made CPU-bound on purpose (`--cpu-ms`).

It stands for what real clients do with a response: parse it, hash it, transform it. It holds
the GIL the whole time, which is the point: threads and tasks cannot overlap it, processes can.

The amount is measured in this thread's own CPU time (`time.thread_time`), not in rounds
calibrated once: a one-off calibration on a busy two-core machine can be off by 2x, and wall
time would count the time a thread spends waiting for the GIL as work done.
"""

from __future__ import annotations

import hashlib
import time

# Rounds between two looks at the clock: about 30-100 microseconds of work, so reading the
# clock costs under 1% and the work overshoots its target by less than 0.1 ms.
ROUNDS_PER_CHECK = 2_000


def _spin(seed: int, rounds: int) -> int:
    """Mix a number, one Python-level step per round."""
    acc = seed
    for i in range(rounds):
        acc = (acc * 1_103_515_245 + i) & 0xFFFF_FFFF
    return acc


def work(body: bytes, cpu_ms: float) -> int:
    """About `cpu_ms` milliseconds of this thread's CPU, GIL held, on `body` (none for 0)."""
    if cpu_ms <= 0:
        return 0
    acc = int.from_bytes(hashlib.blake2b(body, digest_size=8).digest(), "big")
    deadline = time.thread_time() + cpu_ms / 1000
    while time.thread_time() < deadline:
        acc = _spin(acc, ROUNDS_PER_CHECK)
    return acc
