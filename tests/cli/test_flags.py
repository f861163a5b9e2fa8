"""Bad flags and bad input files: one line that names the problem, exit 2, before any request."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from fetcher.cli.batch import cpu_ms
from tests.conftest import run_fetcher


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (["--attempts", "0"], "--attempts"),
        (["--rate", "fast"], "--rate"),
        (["--per-host", "-1"], "--per-host"),
        (["--retry-statuses", "4x9"], "--retry-statuses"),
        (["--total-timeout", "0"], "total_s"),
        (["--resume", "a.jsonl", "--out", "b.jsonl"], "--resume"),
    ],
)
def test_bad_flags_are_one_line_usage_errors(tmp_path: Path, flags: list[str], names: str) -> None:
    """A bad flag value exits 2 with one error line that names what to fix."""
    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:9/\n")
    done = run_fetcher("fetch", str(urls), "--quiet", *flags, cwd=str(tmp_path))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and names in errors[0], done.stderr


def test_bad_url_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    """A URL file with a bad line exits 2 naming the file and line."""
    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:9/\nftp://x/\n")
    done = run_fetcher("fetch", str(urls), "--quiet")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "urls.txt:2" in done.stderr


def test_cpu_ms_flag_accepts_milliseconds_and_refuses_the_rest() -> None:
    """--cpu-ms takes 0 or more milliseconds, with a one-line usage error otherwise."""
    assert cpu_ms("20") == 20.0
    assert cpu_ms("0") == 0.0
    for bad in ("-1", "lots", "100000"):
        with pytest.raises(argparse.ArgumentTypeError):
            cpu_ms(bad)
