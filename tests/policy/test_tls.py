"""The run's SSL context: whom it trusts, in which order, and a clear error for a bad bundle."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest

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
