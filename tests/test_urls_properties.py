"""The URL-file reader on generated input: a list of URLs or one clear error, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fetcher.errors import UrlFileError
from fetcher.urls import UrlFile, read_urls

# Lines that look like URL files: real URLs, near misses, comments, blanks and noise.
URLISH = st.one_of(
    st.from_regex(r"\Ahttps?://[a-z0-9.\-]{1,20}(:[0-9]{1,6})?(/[ -~]{0,20})?\Z"),
    st.from_regex(r"\A(ftp|file|mailto|http|HTTP)[:/]{0,3}[ -~]{0,30}\Z"),
    st.sampled_from(["", "   ", "# a comment", "http://", "http://[::1", "https://:80/"]),
    st.text(max_size=40),
)
FILES = st.one_of(
    st.lists(URLISH, max_size=12).map(lambda lines: "\n".join(lines).encode("utf-8", "replace")),
    st.binary(max_size=200),
)


def read_both(data: bytes) -> tuple[list[str] | str, list[str] | str]:
    """What `read_urls` and the streaming `UrlFile` make of a file holding `data`: the URLs, or
    the error's message."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "urls.txt"
        path.write_bytes(data)
        results: list[list[str] | str] = []
        for reader in (read_urls, lambda p: list(UrlFile(p))):
            try:
                results.append(reader(path))
            except UrlFileError as error:
                results.append(str(error))
        return results[0], results[1]


@settings(max_examples=400, deadline=None)
@given(FILES)
# A scheme is case-insensitive (RFC 3986 3.1): every client fetches HTTP://host as http://host.
@example(b"HTTP://0")
def test_any_file_gives_urls_or_one_line_error(data: bytes) -> None:
    """Whatever the bytes, the reader returns http(s) URLs without spaces, or raises UrlFileError
    with a one-line message naming the file; the streaming reader agrees with the list reader."""
    listed, streamed = read_both(data)
    assert listed == streamed
    if isinstance(listed, str):
        assert "\n" not in listed and "\r" not in listed
        assert "urls.txt" in listed
    else:
        assert listed
        assert all(url.split(":", 1)[0].lower() in ("http", "https") for url in listed)
        assert not any(char.isspace() for url in listed for char in url)
