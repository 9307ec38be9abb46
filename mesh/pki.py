"""Make and maintain the development PKI that the Envoy sidecars use for mTLS.

One EC P-256 CA signs one leaf per workload. A leaf carries the workload's SPIFFE id as its
URI SAN, which is what inbound RBAC pins. Files are PEM; keys are unencrypted PKCS8 because
Envoy reads them without a passphrase, so they are 0600 inside a 0700 directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_TRUST_DOMAIN = "tradesage"
CA_COMMON_NAME = "TradeSage dev CA"
CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
RENEW_BEFORE = dt.timedelta(days=7)
# Backdate notBefore so a peer whose clock runs slightly behind still accepts a fresh cert.
CLOCK_SKEW = dt.timedelta(minutes=5)

# A name becomes a DNS SAN and a file name, so it must be a DNS label; "ca" is the CA's file.
_NAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_RESERVED_NAMES = frozenset({"ca"})


def spiffe_id(name: str, trust_domain: str = DEFAULT_TRUST_DOMAIN) -> str:
    """Return the SPIFFE id of workload `name`."""
    return f"spiffe://{trust_domain}/{name}"


@dataclass(frozen=True)
class Identity:
    """A workload's certificate and key on disk."""

    name: str
    cert_path: Path
    key_path: Path
    trust_domain: str = DEFAULT_TRUST_DOMAIN

    @property
    def spiffe_id(self) -> str:
        """Return the SPIFFE id this identity's certificate carries."""
        return spiffe_id(self.name, self.trust_domain)


@dataclass(frozen=True)
class Pki:
    """The dev CA and the directory holding the identities it issued."""

    directory: Path
    ca_cert_path: Path
    trust_domain: str = DEFAULT_TRUST_DOMAIN

    def identity(self, name: str) -> Identity:
        """Return the identity for `name`; fail if ensure_pki has not made it."""
        ident = _identity_paths(self.directory, name, self.trust_domain)
        if not (ident.cert_path.exists() and ident.key_path.exists()):
            raise FileNotFoundError(
                f"no identity {name!r} in {self.directory}; ensure_pki it first"
            )
        return ident


@dataclass(frozen=True)
class _Ca:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def ensure_pki(
    directory: Path, names: Iterable[str], trust_domain: str = DEFAULT_TRUST_DOMAIN
) -> Pki:
    """Make the CA and one leaf per name if missing, stale or issued by another CA."""
    names = list(names)
    for name in names:
        _check_name(name)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)  # mkdir's mode is ignored when the directory already exists
    ca = _ensure_ca(directory)
    for name in names:
        _ensure_leaf(ca, _identity_paths(directory, name, trust_domain))
    return Pki(directory=directory, ca_cert_path=directory / "ca.pem", trust_domain=trust_domain)


def make_foreign_ca_identity(
    directory: Path, name: str, trust_domain: str = DEFAULT_TRUST_DOMAIN
) -> Identity:
    """Issue `name` a leaf from a throwaway CA that the dev mesh must refuse.

    The throwaway CA has the dev CA's subject name, so only the signature tells them apart,
    as it would for an impostor. `directory` must not be the dev PKI directory: the leaf
    would replace the real one.
    """
    _check_name(name)
    if (directory / "ca.pem").exists():
        raise ValueError(f"{directory} holds a dev CA; use a separate directory")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = _new_ca(CA_COMMON_NAME)
    _write_atomic(directory / "foreign-ca.pem", _cert_pem(ca.cert), 0o644)
    ident = _identity_paths(directory, name, trust_domain)
    _write_leaf(ca, ident)
    return ident


def _now() -> dt.datetime:
    """Return the current UTC time (a seam for tests that age certificates)."""
    return dt.datetime.now(dt.UTC)


def _check_name(name: str) -> None:
    """Reject names that are not DNS labels or that collide with the CA's files."""
    if not _NAME_RE.fullmatch(name) or name in _RESERVED_NAMES:
        raise ValueError(f"invalid identity name {name!r}: need a DNS label other than 'ca'")


def _identity_paths(directory: Path, name: str, trust_domain: str) -> Identity:
    """Return where the identity `name` lives inside `directory`."""
    return Identity(
        name=name,
        cert_path=directory / f"{name}.pem",
        key_path=directory / f"{name}-key.pem",
        trust_domain=trust_domain,
    )


def _ensure_ca(directory: Path) -> _Ca:
    """Load the CA, or make a new one if it is missing, broken or about to expire."""
    cert_path, key_path = directory / "ca.pem", directory / "ca-key.pem"
    ca = _load_ca(cert_path, key_path)
    if ca is None or _expires_soon(ca.cert):
        ca = _new_ca(CA_COMMON_NAME)
        # Key first: a crash in between leaves a mismatched pair, which _load_ca rejects.
        _write_atomic(key_path, _key_pem(ca.key), 0o600)
        _write_atomic(cert_path, _cert_pem(ca.cert), 0o644)
    return ca


def _load_ca(cert_path: Path, key_path: Path) -> _Ca | None:
    """Return the CA on disk, or None if it is missing or its key does not match."""
    cert = _load_cert(cert_path)
    key = _load_key(key_path)
    if cert is None or key is None or not _same_public_key(cert, key):
        return None
    return _Ca(cert=cert, key=key)


def _ensure_leaf(ca: _Ca, ident: Identity) -> None:
    """Re-issue the leaf unless it is valid, current-CA-signed and matches its key."""
    cert = _load_cert(ident.cert_path)
    key = _load_key(ident.key_path)
    if cert is None or key is None or not _leaf_is_good(cert, key, ca, ident):
        _write_leaf(ca, ident)


def _leaf_is_good(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, ca: _Ca, ident: Identity
) -> bool:
    """Return whether an existing leaf can stay."""
    return (
        _same_public_key(cert, key)
        and not _expires_soon(cert)
        and _issued_by(cert, ca.cert)
        and _uri_sans(cert) == [ident.spiffe_id]
    )


def _write_leaf(ca: _Ca, ident: Identity) -> None:
    """Issue a fresh key and leaf for `ident` and write both."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue_leaf(ca, key, ident)
    _write_atomic(ident.key_path, _key_pem(key), 0o600)
    _write_atomic(ident.cert_path, _cert_pem(cert), 0o644)


def _new_ca(common_name: str) -> _Ca:
    """Make a self-signed CA that may sign leaves but no intermediate CAs."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Ca(cert=cert, key=key)


def _issue_leaf(ca: _Ca, key: ec.EllipticCurvePrivateKey, ident: Identity) -> x509.Certificate:
    """Sign a server+client leaf carrying the SPIFFE URI and loopback names."""
    now = _now()
    sans = [
        x509.UniformResourceIdentifier(ident.spiffe_id),
        x509.DNSName(ident.name),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
    ]
    eku = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ident.name)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + LEAF_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca.key, hashes.SHA256())
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Return keyCertSign+cRLSign for a CA, digitalSignature for an ECDSA TLS leaf."""
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _expires_soon(cert: x509.Certificate) -> bool:
    """Return whether `cert` expires within the renewal window."""
    return cert.not_valid_after_utc - _now() < RENEW_BEFORE


def _issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """Return whether `ca_cert` signed `cert`."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _uri_sans(cert: x509.Certificate) -> list[str]:
    """Return the URI SANs of `cert`."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.UniformResourceIdentifier)


def _same_public_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    """Return whether `key` is the private half of `cert`'s public key."""
    return cert.public_key() == key.public_key()


def _load_cert(path: Path) -> x509.Certificate | None:
    """Return the certificate at `path`, or None if it is missing or unreadable."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey | None:
    """Return the EC key at `path`, or None if it is missing, unreadable or not EC."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePrivateKey) else None


def _cert_pem(cert: x509.Certificate) -> bytes:
    """Return `cert` as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Return `key` as unencrypted PKCS8 PEM, the form Envoy reads."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` via a temp file and rename, so readers never see half a file."""
    # mkstemp creates the file 0600, so a key is never readable by others, even briefly.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
