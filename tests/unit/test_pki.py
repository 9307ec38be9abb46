"""Tests for the dev PKI: what the certificates say, where they live, and when they renew."""

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from mesh import pki

pytestmark = pytest.mark.timeout(60)


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


def test_leaf_carries_spiffe_id_and_verifies_against_ca(tmp_path):
    dev = pki.ensure_pki(tmp_path / "pki", ["trading"])
    ident = dev.identity("trading")
    leaf, ca = _cert(ident.cert_path), _cert(dev.ca_cert_path)

    leaf.verify_directly_issued_by(ca)
    san = _san(leaf)
    assert ident.spiffe_id == pki.spiffe_id("trading") == "spiffe://tradesage/trading"
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [ident.spiffe_id]
    assert san.get_values_for_type(x509.DNSName) == ["trading", "localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert dt.timedelta(days=365) <= lifetime <= dt.timedelta(days=366)


def test_ca_is_a_leaf_only_signing_ca(tmp_path):
    ca = _cert(pki.ensure_pki(tmp_path / "pki", []).ca_cert_path)

    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (constraints.ca, constraints.path_length) == (True, 0)
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert ca.subject.rfc4514_string() == "CN=TradeSage dev CA"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= dt.timedelta(days=3650)


def test_keys_are_private_unencrypted_pkcs8(tmp_path):
    directory = tmp_path / "pki"
    pki.ensure_pki(directory, ["auth"])

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for key in (directory / "ca-key.pem", directory / "auth-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")], "temp files left"


def test_second_call_reuses_files_and_adds_only_the_new_name(tmp_path):
    directory = tmp_path / "pki"
    pki.ensure_pki(directory, ["auth", "trading"])
    before = _snapshot(directory)

    dev = pki.ensure_pki(directory, ["auth", "trading", "market"])

    after = _snapshot(directory)
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) == {"market.pem", "market-key.pem"}
    _cert(dev.identity("market").cert_path).verify_directly_issued_by(_cert(dev.ca_cert_path))


def test_foreign_identity_does_not_verify_against_dev_ca(tmp_path):
    dev = pki.ensure_pki(tmp_path / "pki", ["trading"])
    foreign = pki.make_foreign_ca_identity(tmp_path / "foreign", "trading")
    leaf = _cert(foreign.cert_path)

    # Same SPIFFE id and same issuer name: only the signature can give the impostor away.
    assert _san(leaf).get_values_for_type(x509.UniformResourceIdentifier) == [foreign.spiffe_id]
    assert leaf.issuer == _cert(dev.ca_cert_path).subject
    with pytest.raises(InvalidSignature):
        leaf.verify_directly_issued_by(_cert(dev.ca_cert_path))
    leaf.verify_directly_issued_by(_cert(tmp_path / "foreign" / "foreign-ca.pem"))


def test_foreign_identity_refuses_the_dev_pki_directory(tmp_path):
    directory = tmp_path / "pki"
    pki.ensure_pki(directory, ["trading"])
    with pytest.raises(ValueError, match="dev CA"):
        pki.make_foreign_ca_identity(directory, "trading")


def test_leaf_expiring_within_a_week_is_reissued(tmp_path, monkeypatch):
    directory = tmp_path / "pki"
    now = dt.datetime.now(dt.UTC)
    # Issue "old" 360 days ago (5 days left) and "fresh" 300 days ago (65 days left).
    monkeypatch.setattr(pki, "_now", lambda: now - dt.timedelta(days=360))
    pki.ensure_pki(directory, ["old"])
    monkeypatch.setattr(pki, "_now", lambda: now - dt.timedelta(days=300))
    pki.ensure_pki(directory, ["fresh"])
    monkeypatch.undo()
    before = _snapshot(directory)

    dev = pki.ensure_pki(directory, ["old", "fresh"])

    after = _snapshot(directory)
    assert after["old.pem"] != before["old.pem"]
    assert after["old-key.pem"] != before["old-key.pem"]
    renewed = _cert(dev.identity("old").cert_path)
    assert renewed.not_valid_after_utc > now + dt.timedelta(days=364)
    renewed.verify_directly_issued_by(_cert(dev.ca_cert_path))
    for kept in ("fresh.pem", "fresh-key.pem", "ca.pem", "ca-key.pem"):
        assert after[kept] == before[kept], kept


def test_leaves_of_a_replaced_ca_are_reissued(tmp_path):
    directory = tmp_path / "pki"
    pki.ensure_pki(directory, ["auth"])
    old_leaf = (directory / "auth.pem").read_bytes()
    (directory / "ca.pem").unlink()
    (directory / "ca-key.pem").unlink()

    dev = pki.ensure_pki(directory, ["auth"])

    assert (directory / "auth.pem").read_bytes() != old_leaf
    _cert(dev.identity("auth").cert_path).verify_directly_issued_by(_cert(dev.ca_cert_path))


def test_leaf_whose_key_was_lost_is_reissued(tmp_path):
    directory = tmp_path / "pki"
    pki.ensure_pki(directory, ["auth"])
    old_leaf = (directory / "auth.pem").read_bytes()
    (directory / "auth-key.pem").unlink()

    pki.ensure_pki(directory, ["auth"])

    assert (directory / "auth.pem").read_bytes() != old_leaf
    assert (directory / "auth-key.pem").exists()


@pytest.mark.parametrize("name", ["ca", "Trading", "bad_name", "../etc", "", "-x", "auth\n"])
def test_names_that_are_not_dns_labels_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="invalid identity name"):
        pki.ensure_pki(tmp_path / "pki", [name])


def test_identity_of_an_unknown_name_fails(tmp_path):
    dev = pki.ensure_pki(tmp_path / "pki", ["auth"])
    with pytest.raises(FileNotFoundError):
        dev.identity("trading")
