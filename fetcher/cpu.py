"""Pure-Python work per response, so a batch can be made CPU-bound on purpose (`--cpu-ms`).

It stands for what real clients do with a response: parse it, hash it, transform it. It holds
the GIL the whole time, which is the point: threads and tasks cannot overlap it, processes can.
"""

from __future__ import annotations

import hashlib
import time

_CALIBRATION_ROUNDS = 20_000
_rounds_per_ms: float | None = None


def _spin(data: bytes, rounds: int) -> int:
    """Mix the data into a number, one Python-level step per round."""
    acc = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
    for i in range(rounds):
        acc = (acc * 1_103_515_245 + i) & 0xFFFF_FFFF
    return acc


def rounds_per_ms() -> float:
    """How many rounds of `_spin` take one millisecond here; measured once per process."""
    global _rounds_per_ms
    if _rounds_per_ms is None:
        started = time.perf_counter()
        _spin(b"calibrate", _CALIBRATION_ROUNDS)
        _rounds_per_ms = _CALIBRATION_ROUNDS / max((time.perf_counter() - started) * 1000, 1e-6)
    return _rounds_per_ms


def work(body: bytes, cpu_ms: float) -> int:
    """About `cpu_ms` milliseconds of GIL-holding work on `body` (none for 0)."""
    if cpu_ms <= 0:
        return 0
    return _spin(body, int(rounds_per_ms() * cpu_ms))
