"""Forge access tokens for negative tests: expired, tampered, unsigned, foreign-key, other tenant.

Signing with the platform's real key needs its private half, which the test reads from the
auth database and decrypts with the run's master key, exactly as the auth service does.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mesh.supervisor import Mesh
from services.auth.config import decode_master_key
from services.auth.secret_box import SecretBox

ISSUER, AUDIENCE = "https://tradesage.local", "tradesage-api"


async def real_signing_key(mesh: Mesh) -> tuple[str, Ed25519PrivateKey]:
    """Return (kid, private key) of the key that signs now."""
    master = (mesh.data_dir / "secrets" / "TRADESAGE_AUTH_MASTER_KEY").read_text().strip()
    connection = await asyncpg.connect(mesh.database_url)
    try:
        row = await connection.fetchrow(
            """SELECT kid, private_key FROM auth.signing_keys WHERE activate_time <= now()
               ORDER BY activate_time DESC LIMIT 1""")
    finally:
        await connection.close()
    pem = SecretBox(decode_master_key(master)).open(row["private_key"], f"signing-key:{row['kid']}")
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return row["kid"], key


def claims(user_id: str, tenant_id: str, session_id: str, *, ttl: int = 600,
           issued: float | None = None, **overrides: object) -> dict[str, object]:
    """Return access-token claims like the auth service's, with `overrides` applied."""
    now = int(issued if issued is not None else time.time())
    base: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": user_id, "tenant": tenant_id, "roles": "trader",
        "sid": session_id, "jti": uuid.uuid4().hex, "iat": now, "nbf": now, "exp": now + ttl}
    return {**base, **overrides}


def sign(payload: dict[str, object], kid: str, key: Ed25519PrivateKey) -> str:
    """Return `payload` signed as an EdDSA JWT with key id `kid`."""
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid})


def unsigned(payload: dict[str, object], kid: str) -> str:
    """Return an `alg: none` token, which must never be accepted."""
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(payload)}."


def tampered(token: str, **changes: object) -> str:
    """Return `token` with its payload edited but its original signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    edited = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{header}.{edited}.{signature}"
