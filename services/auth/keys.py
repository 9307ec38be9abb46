"""JWT signing keys (Ed25519): creation, rotation, the JWKS, and the key that signs now.

A new key is published `publish_lead` seconds before it starts signing, so every edge has it
cached before the first token it signs arrives; a retired key stays published until the last
token it signed has expired.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.config import AuthSettings
from services.auth.secret_box import SecretBox

ALGORITHM = "EdDSA"
# A successor key is published well before it signs, so a short reload interval is enough.
_RELOAD_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class SigningKey:
    """The private key that signs tokens now, with its id."""

    kid: str
    private_key: Ed25519PrivateKey
    activate_time: datetime


class SigningKeyStore:
    """Keys in `auth.signing_keys`, private halves encrypted with the master key."""

    def __init__(self, pool: asyncpg.Pool, box: SecretBox, settings: AuthSettings) -> None:
        self._pool = pool
        self._box = box
        self._settings = settings
        self._current: SigningKey | None = None
        self._loaded_at = datetime.min.replace(tzinfo=UTC)

    async def current(self) -> SigningKey:
        """Return the key that signs now, re-read every few seconds to follow rotation."""
        now = datetime.now(UTC)
        if self._current is None or now - self._loaded_at > _RELOAD_AFTER:
            self._current, self._loaded_at = await self._load_current(now), now
        return self._current

    async def rotate(self) -> None:
        """Make sure a key signs now and the next one is published in time; retire old ones.

        Serialized across replicas by a transaction-scoped advisory lock.
        """
        now = datetime.now(UTC)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('auth:keys'))")
            newest = await connection.fetchrow(
                "SELECT kid, activate_time FROM auth.signing_keys ORDER BY activate_time DESC"
                " LIMIT 1")
            if newest is None:  # first start: nothing was ever signed, sign at once
                await self._insert(connection, now)
            elif newest["activate_time"] <= now - timedelta(seconds=self._rotation_due()):
                await self._insert(connection, now + timedelta(seconds=self._settings.publish_lead))
            await connection.execute(
                """UPDATE auth.signing_keys k SET retire_time = (
                       SELECT min(n.activate_time) FROM auth.signing_keys n
                       WHERE n.activate_time > k.activate_time)
                   WHERE retire_time IS NULL AND EXISTS (
                       SELECT 1 FROM auth.signing_keys n
                       WHERE n.activate_time > k.activate_time AND n.activate_time <= $1)""",
                now)

    async def jwks(self) -> list[dict[str, str]]:
        """Return the public keys a verifier may need now: upcoming, current and recent."""
        rows = await self._pool.fetch(
            """SELECT public_jwk FROM auth.signing_keys
               WHERE retire_time IS NULL OR retire_time > now() - make_interval(secs => $1)
               ORDER BY activate_time""", float(self._settings.access_ttl))
        return [json.loads(row["public_jwk"]) for row in rows]

    def _rotation_due(self) -> int:
        # Publish the successor early enough that it is cached everywhere when it takes over.
        return max(self._settings.key_rotation - self._settings.publish_lead, 0)

    async def _load_current(self, now: datetime) -> SigningKey:
        row = await self._pool.fetchrow(
            """SELECT kid, private_key, activate_time FROM auth.signing_keys
               WHERE activate_time <= $1 ORDER BY activate_time DESC LIMIT 1""", now)
        if row is None:
            await self.rotate()
            return await self._load_current(datetime.now(UTC))
        pem = self._box.open(row["private_key"], f"signing-key:{row['kid']}")
        private_key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(private_key, Ed25519PrivateKey)
        return SigningKey(row["kid"], private_key, row["activate_time"])

    async def _insert(self, connection: asyncpg.Connection, activate_time: datetime) -> None:
        kid = secrets.token_urlsafe(12)
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        await connection.execute(
            """INSERT INTO auth.signing_keys
                   (kid, algorithm, public_jwk, private_key, activate_time)
               VALUES ($1, $2, $3, $4, $5)""",
            kid, ALGORITHM, json.dumps(_public_jwk(kid, private_key)),
            self._box.seal(pem, f"signing-key:{kid}"), activate_time)


def _public_jwk(kid: str, private_key: Ed25519PrivateKey) -> dict[str, str]:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": ALGORITHM}
