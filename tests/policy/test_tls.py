"""The run's SSL context: whom it trusts, in which order, and a clear error for a bad bundle."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import certifi
import pytest
import trustme

from fetcher.config import TLS
from fetcher.policy.tls import client_context, trust_source


def test_the_ca_bundle_comes_from_the_flag_then_the_environment_then_certifi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--ca-bundle beats SSL_CERT_FILE, which beats SSL_CERT_DIR, which beats certifi."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert (trust_source(TLS()).cafile, trust_source(TLS()).origin) == (certifi.where(), "certifi")
    monkeypatch.setenv("SSL_CERT_DIR", "/etc/ssl/certs")
    assert (trust_source(TLS()).capath, trust_source(TLS()).origin) == (
        "/etc/ssl/certs",
        "SSL_CERT_DIR",
    )
    monkeypatch.setenv("SSL_CERT_FILE", "/env/ca.pem")
    assert str(trust_source(TLS())) == "/env/ca.pem (from SSL_CERT_FILE)"
    assert str(trust_source(TLS(ca_bundle="/mine.pem"))) == "/mine.pem (from --ca-bundle)"


def test_verification_is_on_unless_asked_off() -> None:
    """The default context checks certificates and host names; verify=False checks neither."""
    default = client_context(TLS())
    assert (default.verify_mode, default.check_hostname) == (ssl.CERT_REQUIRED, True)
    insecure = client_context(TLS(verify=False))
    assert (insecure.verify_mode, insecure.check_hostname) == (ssl.CERT_NONE, False)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "No such file or directory"), ("not a certificate\n", "no certificate or crl found")],
)
def test_a_bundle_that_cannot_be_loaded_is_one_clear_line(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    """A missing or non-PEM bundle is a ValueError naming the file, where it came from and why."""
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError) as raised:
        client_context(TLS(ca_bundle=str(path)))
    message = str(raised.value)
    assert message.startswith(f"cannot load the CA bundle {path} (from --ca-bundle): ")
    assert reason in message and "\n" not in message


def test_a_bundle_is_loaded_once_until_its_file_changes(tmp_path: Path) -> None:
    """Every run of a process shares the context built for a bundle; a rewritten bundle is
    loaded again, and the new context trusts what the file now holds."""
    path = tmp_path / "ca.pem"
    first_ca, second_ca = trustme.CA(), trustme.CA()
    first_ca.cert_pem.write_to_path(str(path))
    first = client_context(TLS(ca_bundle=str(path)))
    assert client_context(TLS(ca_bundle=str(path))) is first
    second_ca.cert_pem.write_to_path(str(path))
    stat = path.stat()  # a later modification time, however coarse the file system's clock
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = client_context(TLS(ca_bundle=str(path)))
    assert second is not first
    subjects = [ca["subject"] for ca in second.get_ca_certs()]
    assert subjects != [ca["subject"] for ca in first.get_ca_certs()] and len(subjects) == 1
