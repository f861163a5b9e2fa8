"""The TLS flags as a user meets them: --ca-bundle, SSL_CERT_FILE, --insecure, a bad bundle."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from fetcher.cli.tls import INSECURE_WARNING
from mock_server import MockServer
from tests.conftest import run_fetcher


@pytest.fixture
def urls_file(tmp_path: Path, tls_server: MockServer) -> Path:
    """Five https URLs on the TLS mock server."""
    path = tmp_path / "urls.txt"
    path.write_text("".join(tls_server.url_for(f"/items/{i}") + "\n" for i in range(5)))
    return path


def errors(out: Path) -> list[str | None]:
    """The error of every result line `fetcher fetch` wrote."""
    return [json.loads(line)["error"] for line in out.read_text().splitlines()]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the CA settings a developer's shell might have, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    return {**env, **extra}


def test_fetch_trusts_the_ca_bundle_and_refuses_without_it(
    tmp_path: Path, urls_file: Path, tls_server: MockServer
) -> None:
    """With --ca-bundle every URL is fetched; without it each is a tls_certificate result, the
    summary says so in one line, and nothing prints a traceback."""
    assert tls_server.ca_path is not None
    out = tmp_path / "out.jsonl"
    args = ("fetch", str(urls_file), "--out", str(out), "--quiet")
    trusted = run_fetcher(*args, "--ca-bundle", tls_server.ca_path)
    assert trusted.returncode == 0, trusted.stderr
    assert errors(out) == [None] * 5
    refused = run_fetcher(*args, env=clean_env())
    assert errors(out) == ["tls_certificate"] * 5
    summary = r"5 results in [\d.]+ s \(\d+/s\): 0 ok, 5 failed \(tls_certificate 5\) on \w+\n"
    assert re.fullmatch(summary, refused.stderr)


def test_fetch_honours_ssl_cert_file(
    tmp_path: Path, urls_file: Path, tls_server: MockServer
) -> None:
    """SSL_CERT_FILE names the bundle when --ca-bundle does not (requests alone would ignore it)."""
    assert tls_server.ca_path is not None
    out = tmp_path / "out.jsonl"
    done = run_fetcher(
        "fetch", str(urls_file), "--out", str(out), "--quiet", "--strategy", "sequential",
        env=clean_env(SSL_CERT_FILE=tls_server.ca_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert errors(out) == [None] * 5


def test_insecure_fetches_and_warns_once(tmp_path: Path, urls_file: Path) -> None:
    """--insecure accepts the unknown certificate and says so in one warning line."""
    out = tmp_path / "out.jsonl"
    done = run_fetcher("fetch", str(urls_file), "--out", str(out), "--quiet", "--insecure")
    assert errors(out) == [None] * 5
    assert done.stderr.count(INSECURE_WARNING) == 1
    assert len(done.stderr.strip().splitlines()) == 2  # the warning, then the summary


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ca-bundle", "/nonexistent.pem"], "cannot load the CA bundle /nonexistent.pem"),
        (["--ca-bundle", "x.pem", "--insecure"], "not allowed with argument --ca-bundle"),
    ],
)
def test_a_bundle_it_cannot_use_is_one_line_and_exit_2(
    urls_file: Path, extra: list[str], message: str
) -> None:
    """A missing bundle, or a bundle with --insecure, stops before any request, in one line."""
    for command in ("fetch", "load"):
        done = run_fetcher(command, str(urls_file), *extra)
        assert done.returncode == 2
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_load_trusts_the_ca_bundle_and_reports_refusals(tls_server: MockServer) -> None:
    """`fetcher load` over HTTPS: every request answered with --ca-bundle; without it, none,
    the refusals counted as tls_certificate, and exit 1."""
    assert tls_server.ca_path is not None
    url = tls_server.url_for("/items/1")
    for client in ("fast", "aiohttp", "httpx"):
        args = ("load", url, "--requests", "20", "-c", "2", "--client", client)
        trusted = run_fetcher(*args, "--ca-bundle", tls_server.ca_path)
        assert trusted.returncode == 0, trusted.stderr
        assert "20 (100.00% of sent)" in trusted.stdout
        refused = run_fetcher(*args, env=clean_env())
        assert refused.returncode == 1
        assert "no request got a response (20 tls_certificate)" in refused.stderr


def test_load_reads_the_scheme_in_any_case(tls_server: MockServer) -> None:
    """HTTPS:// is https: the fast client speaks TLS to it, as it does for https://."""
    assert tls_server.ca_path is not None
    url = tls_server.url_for("/items/1").replace("https://", "HTTPS://")
    done = run_fetcher("load", url, "--requests", "5", "-c", "1", "--ca-bundle", tls_server.ca_path)
    assert done.returncode == 0, done.stderr
    assert "5 (100.00% of sent)" in done.stdout
