"""The duration and fault flags of `fetcher fetch` and `fetcher load` on generated text: a value
or a one-line usage error (exit 2), never a traceback."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fetcher.cli.main import build_parser

# Text that looks like a duration or a fault list, near misses included, and anything at all.
DURATIONS = st.one_of(
    st.from_regex(r"\A-?[0-9.]{0,8}(ms|s|m|h|us|)?\Z"),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "0", "0s", ".", "1..2s", "1e3ms"]),
    st.text(max_size=16),
)
FAULTS = st.one_of(
    st.lists(
        st.tuples(
            st.sampled_from(["reset", "empty", "hang", "slow", "malformed", "bogus", ""]),
            st.from_regex(r"\A-?[0-9.e]{0,6}\Z"),
        ),
        max_size=4,
    ).map(lambda pairs: ",".join(f"{kind}={rate}" for kind, rate in pairs)),
    st.text(max_size=24),
)
CASES = {
    "fetch": ["--connect-timeout", "--read-timeout", "--total-timeout"],
    "load": ["-z", "--latency", "--jitter"],
}


def parse(argv: list[str]) -> tuple[int, str]:
    """(exit status, what was printed to stderr) of parsing `argv` as the command line does."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            build_parser(argv[0]).parse_args(argv)
        except SystemExit as exit_:
            return int(exit_.code or 0), stderr.getvalue()
    return 0, stderr.getvalue()


def assert_value_or_usage_error(argv: list[str]) -> None:
    """Parsed, or refused with exit 2 and one line naming the flag's problem."""
    code, stderr = parse(argv)
    if code == 0:
        assert stderr == ""
        return
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith(f"fetcher {argv[0]}: error:"), stderr


@pytest.mark.parametrize(
    ("command", "flag"), [(command, flag) for command, flags in CASES.items() for flag in flags]
)
@settings(max_examples=150, deadline=None)
@given(text=DURATIONS)
def test_duration_flags_parse_or_give_one_line(command: str, flag: str, text: str) -> None:
    """Any text after a duration flag of either command: a value or a one-line error."""
    positional = ["urls.txt"] if command == "fetch" else []
    assert_value_or_usage_error([command, *positional, f"{flag}={text}"])


@settings(max_examples=300, deadline=None)
@given(text=FAULTS)
def test_the_fault_flag_parses_or_gives_one_line(text: str) -> None:
    """Any text after `fetcher load --faults`: a value or a one-line error."""
    assert_value_or_usage_error(["load", f"--faults={text}"])
