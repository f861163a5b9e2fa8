"""Reading URL files: comments and blanks skipped, every bad line named before any request."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fetcher import UrlFileError, parse_urls, read_urls


def test_comments_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    """Only the URLs come back, in file order, stripped."""
    path = tmp_path / "urls.txt"
    path.write_text("# a batch\n\nhttp://127.0.0.1:8080/a\n  https://[::1]:9/b  \n\n#end\n")
    assert read_urls(path) == ["http://127.0.0.1:8080/a", "https://[::1]:9/b"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("ftp://127.0.0.1/file", "not an http(s) URL"),
        ("127.0.0.1:8080/items", "not an http(s) URL"),
        ("http:///nohost", "the URL has no host"),
        ("http://127.0.0.1:99999/", "not a valid URL"),
        ("http://127.0.0.1/a b", "a URL cannot contain spaces"),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_text(tmp_path: Path, line: str, problem: str) -> None:
    """The error gives the file, the line number and the offending text."""
    path = tmp_path / "urls.txt"
    path.write_text(f"# header\nhttp://127.0.0.1/ok\n{line}\n")
    with pytest.raises(UrlFileError) as caught:
        read_urls(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: {problem}")
    assert repr(line) in message


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    """A file with nothing but comments has no URLs, and that is an error."""
    path = tmp_path / "urls.txt"
    path.write_text("# nothing here\n\n")
    with pytest.raises(UrlFileError, match="has no URLs"):
        read_urls(path)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    """A path that does not exist is reported as unreadable, not as a traceback."""
    with pytest.raises(UrlFileError, match=r"cannot read URL file .*missing\.txt"):
        read_urls(tmp_path / "missing.txt")


def test_dash_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads the URLs from standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO("http://127.0.0.1/x\n# c\nhttp://127.0.0.1/y\n"))
    assert read_urls("-") == ["http://127.0.0.1/x", "http://127.0.0.1/y"]


def test_parse_urls_names_its_source() -> None:
    """parse_urls uses the name it is given in errors."""
    with pytest.raises(UrlFileError, match=r"^inline:1: "):
        parse_urls(["mailto:x@y"], "inline")
