"""The GIL demo: exact counts in every mode, consistent numbers, interpreter detection, the CLI."""

from __future__ import annotations

import itertools
import multiprocessing
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from fetcher import gil
from fetcher.gil import CountSpan, GilRun, InterpreterInfo, ModeResult
from tests.conftest import run_fetcher

ROOT = Path(__file__).resolve().parents[2]
SMALL_COUNT = 50_000


def mode_result(mode: str, wall_s: float, cpu_s: float) -> ModeResult:
    """A hand-made result with two counts, for tests about arithmetic and wording."""
    spans = (CountSpan("A", 10, 100.0, 100.5, 0.5), CountSpan("B", 10, 100.1, 100.6, 0.5))
    return ModeResult(mode, spans, 99.9, wall_s, cpu_s)


def interpreter(free_threaded: bool, gil_enabled: bool, cpu_count: int = 2) -> InterpreterInfo:
    """A made-up interpreter description."""
    return InterpreterInfo("CPython", "3.13.0", free_threaded, gil_enabled, 0.005, cpu_count)


def hand_made_run() -> GilRun:
    """Threads as slow as sequential, processes twice as fast: the classic outcome."""
    results = (
        mode_result("sequential", 2.0, 2.0),
        mode_result("threads", 2.0, 2.0),
        mode_result("processes", 1.0, 2.0),
    )
    return GilRun(10, 2, results)


def test_count_to_counts_exactly() -> None:
    """The counting loop reaches exactly the number asked for, zero included."""
    assert [gil.count_to(n) for n in (0, 1, 12_345)] == [0, 1, 12_345]


@pytest.mark.parametrize("mode", gil.MODES)
def test_each_mode_counts_exactly(mode: str) -> None:
    """Every mode runs one full count per worker, labelled A, B, C, and measures some time."""
    result = gil.measure(mode, SMALL_COUNT, 3)
    assert result.mode == mode
    assert sorted(span.label for span in result.spans) == ["A", "B", "C"]
    assert all(span.total == SMALL_COUNT for span in result.spans)
    assert all(span.finished_at >= span.started_at for span in result.spans)
    assert result.wall_s > 0 and result.cpu_s > 0


def test_sequential_counts_run_one_after_the_other() -> None:
    """In sequential mode each count starts only once the one before it has finished."""
    spans = gil.measure("sequential", SMALL_COUNT, 3).spans
    pairs = itertools.pairwise(spans)
    assert all(later.started_at >= earlier.finished_at for earlier, later in pairs)


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_cpu_time_includes_every_worker(mode: str) -> None:
    """The CPU time of a mode covers all its workers' counting, in other threads or processes."""
    result = gil.measure(mode, 200_000, 2)
    workers_cpu_s = sum(span.cpu_s for span in result.spans)
    assert workers_cpu_s > 0
    assert result.cpu_s >= workers_cpu_s - 0.005  # 5 ms for the clocks' granularity


def test_no_worker_process_is_left_running() -> None:
    """After the processes mode every worker process has been stopped and reaped."""
    gil.measure("processes", 1_000, 2)
    assert multiprocessing.active_children() == []


def test_run_all_runs_every_mode_in_order_on_the_same_work() -> None:
    """A full run measures each mode once, in order, each doing all the counts asked for, and
    each mode's counts fall inside the time measured for it."""
    run = gil.run_all(SMALL_COUNT, 2)
    assert [result.mode for result in run.results] == list(gil.MODES)
    for result in run.results:
        assert [span.total for span in result.spans] == [SMALL_COUNT, SMALL_COUNT]
        first_start = min(span.started_at for span in result.spans)
        last_end = max(span.finished_at for span in result.spans)
        assert result.started_at <= first_start <= last_end
        assert last_end - result.started_at <= result.wall_s + 0.01


def test_utilisation_and_speedup_arithmetic() -> None:
    """Utilisation is CPU over wall time and speedup is sequential wall time over the mode's."""
    run = hand_made_run()
    assert [result.utilisation for result in run.results] == [1.0, 1.0, 2.0]
    assert [run.speedup(mode) for mode in gil.MODES] == [1.0, 1.0, 2.0]
    assert mode_result("threads", 0.0, 0.0).utilisation == 0.0


@pytest.mark.parametrize(
    ("count", "workers"), [(0, 2), (-5, 2), (10, 0), (10, gil.MAX_WORKERS + 1)]
)
def test_bad_work_is_refused(count: int, workers: int) -> None:
    """A count below 1 or a number of workers out of range raises ValueError before any work."""
    with pytest.raises(ValueError, match="must be"):
        gil.measure("threads", count, workers)


def test_narrate_tells_the_run_in_the_order_it_happened() -> None:
    """The narration reads like the classic demo, events sorted by time across workers."""
    assert gil.narrate(mode_result("threads", 0.7, 1.0)) == [
        "Thread A: Starting to count.",
        "Thread B: Starting to count.",
        "Thread A: Finished counting.",
        "Thread B: Finished counting.",
        "Total execution time: 0.7000 seconds",
    ]


def test_detection_matches_this_interpreter() -> None:
    """The interpreter report agrees with sysconfig and sys on whatever Python runs the tests."""
    info = gil.interpreter_info()
    is_gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)
    assert info.free_threaded_build == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert info.gil_enabled == is_gil_enabled()
    assert info.switch_interval_s == sys.getswitchinterval()
    assert info.version == sys.version.split()[0]


def test_gil_is_enabled_where_python_cannot_turn_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without sys._is_gil_enabled (before 3.13) the GIL is reported as enabled."""
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert gil.is_gil_enabled() is True


@pytest.mark.parametrize(("config_value", "expected"), [(1, True), (0, False), (None, False)])
def test_free_threaded_build_is_read_from_sysconfig(
    monkeypatch: pytest.MonkeyPatch, config_value: int | None, expected: bool
) -> None:
    """Py_GIL_DISABLED set to 1 means a free-threaded build; 0 or unset means a standard one."""
    monkeypatch.setattr(sysconfig, "get_config_var", {"Py_GIL_DISABLED": config_value}.get)
    assert gil.is_free_threaded_build() is expected


def test_free_threaded_build_with_the_gil_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """A free-threaded build with the GIL off is detected, and the report says what threads did."""
    monkeypatch.setattr(sysconfig, "get_config_var", {"Py_GIL_DISABLED": 1}.get)
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    info = gil.interpreter_info()
    assert (info.free_threaded_build, info.gil_enabled, info.threads_run_in_parallel) == (
        True,
        False,
        True,
    )
    text = " ".join(gil.explain(hand_made_run(), info))
    assert "free-threaded build with the GIL off" in text
    assert "here they kept 1.00 cores busy" in text
    assert "took turns" not in text


def test_free_threaded_build_with_the_gil_back_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A free-threaded build that re-enabled the GIL is explained like a standard build."""
    monkeypatch.setattr(sysconfig, "get_config_var", {"Py_GIL_DISABLED": 1}.get)
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    info = gil.interpreter_info()
    assert not info.threads_run_in_parallel
    text = " ".join(gil.explain(hand_made_run(), info))
    assert "the GIL is enabled" in text and "took turns" in text


def test_explain_under_the_gil() -> None:
    """On a standard build the explanation gives the measured ratios and the reason for them."""
    text = " ".join(gil.explain(hand_made_run(), interpreter(False, True, cpu_count=1)))
    assert "Threads ran 1.00x as fast as sequential, keeping 1.00 cores busy." in text
    assert "Processes ran 2.00x as fast as sequential, keeping 2.00 cores busy." in text
    assert "only one thread runs Python code at a time" in text
    assert "A free-threaded build (python3.13t and later) with the GIL off" in text
    assert "This machine has 1 cores" in text
    assert "well short" not in text


def test_explain_says_when_processes_fall_short() -> None:
    """Processes no faster than sequential on two cores, after a start-up of 0.1 s of 2 s: the
    run fell short, and not for the start-up: other programs held the cores."""
    results = (mode_result("sequential", 2.0, 2.0), mode_result("threads", 2.0, 2.0))
    run = GilRun(10, 2, (*results, mode_result("processes", 2.0, 3.0)))
    text = " ".join(gil.explain(run, interpreter(False, True)))
    assert "well short of 2x, and start-up (0.10 s) does not explain it" in text
    assert "kept only 1.50 cores busy, so other programs held the cores" in text


def test_explain_blames_start_up_when_it_took_much_of_the_run() -> None:
    """Processes that spent 1 s of 2 s starting: a bigger count, not a quieter machine."""
    results = (mode_result("sequential", 2.0, 2.0), mode_result("threads", 2.0, 2.0))
    slow_start = ModeResult("processes", mode_result("processes", 2.0, 2.0).spans, 99.0, 2.0, 2.0)
    text = " ".join(gil.explain(GilRun(10, 2, (*results, slow_start)), interpreter(False, True)))
    assert "starting the processes took 1.00 s of the 2.00 s; rerun with a bigger --count" in text
    assert "other programs" not in text


def test_cli_runs_end_to_end() -> None:
    """`fetcher gil` with a small count prints the three runs, the table and the interpreter."""
    completed = run_fetcher("gil", "--count", "20000", "--workers", "2")
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    for noun in ("Count", "Thread", "Process"):
        for label in "AB":
            assert f"{noun} {label}: Starting to count." in out
            assert f"{noun} {label}: Finished counting." in out
    assert out.count("Total execution time: ") == 3
    for text in ("cores busy", "speedup", "free-threaded build", "GIL enabled", "Threads ran"):
        assert text in out
    # Each mode's wall time is printed once, in its narrative, not again in the table.
    assert "wall time" not in out


@pytest.mark.parametrize("bad", ["0", "-5", "many"])
def test_cli_rejects_a_bad_count(bad: str) -> None:
    """A count that is not a whole number of at least 1 is a one-line usage error, exit 2."""
    completed = run_fetcher("gil", "--count", bad)
    assert completed.returncode == 2
    assert "argument --count" in completed.stderr
    assert ("at least 1" in completed.stderr) or ("whole number" in completed.stderr)
    assert completed.stdout == ""


def test_standalone_script_runs_without_the_package(tmp_path: Path) -> None:
    """scripts/gil_demo.py runs from any directory with plain Python and prints the demo."""
    script = ROOT / "scripts" / "gil_demo.py"
    completed = subprocess.run(
        [sys.executable, "-I", str(script), "20000", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Thread B: Finished counting." in completed.stdout
    assert completed.stdout.count("Total execution time: ") == 3
