"""Access tokens (signed JWTs) and refresh tokens (opaque, hashed, rotated on every use)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import jwt

from services.auth.config import AuthSettings
from services.auth.domain.tokens import Principal, access_claims, new_opaque_token, token_hash
from services.auth.keys import ALGORITHM, SigningKeyStore
from services.runtime.errors import Unauthenticated


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful sign-in or refresh hands the client."""

    access_token: str
    access_expire_time: datetime
    refresh_token: str
    refresh_expire_time: datetime
    session_id: str


@dataclass(frozen=True)
class RefreshGrant:
    """Whom a valid refresh token belongs to, and the family it continues."""

    user_id: str
    tenant_id: str
    session_id: str
    family_id: uuid.UUID


class RefreshTokenReused(Exception):
    """A used refresh token came back: its family (and session) has been revoked."""

    def __init__(self, grant: RefreshGrant) -> None:
        super().__init__("refresh token reused")
        self.grant = grant


class TokenService:
    """Sign access tokens and keep refresh-token families."""

    def __init__(self, pool: asyncpg.Pool, keys: SigningKeyStore,
                 settings: AuthSettings) -> None:
        self._pool = pool
        self._keys = keys
        self._settings = settings

    async def issue(self, principal: Principal, family_id: uuid.UUID | None = None,
                    connection: asyncpg.Connection | None = None) -> IssuedTokens:
        """Return a new access token and a new refresh token (in `family_id`, or a new one)."""
        access_token, access_expire = await self.sign(principal)
        refresh_token = new_opaque_token()
        refresh_expire = datetime.now(UTC) + timedelta(seconds=self._settings.refresh_ttl)
        await (connection or self._pool).execute(
            """INSERT INTO auth.refresh_tokens
                   (id, family_id, user_id, tenant_id, session_id, token_hash, expire_time)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            uuid.uuid4(), family_id or uuid.uuid4(), uuid.UUID(principal.user_id),
            uuid.UUID(principal.tenant_id), principal.session_id, token_hash(refresh_token),
            refresh_expire)
        return IssuedTokens(access_token, access_expire, refresh_token, refresh_expire,
                            principal.session_id)

    async def sign(self, principal: Principal) -> tuple[str, datetime]:
        """Return a signed access token and its expiry."""
        key = await self._keys.current()
        claims = access_claims(principal, self._settings.issuer, self._settings.audience,
                               self._settings.access_ttl)
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM,
                           headers={"kid": key.kid})
        return token, datetime.fromtimestamp(int(str(claims["exp"])), UTC)

    async def redeem(self, refresh_token: str) -> RefreshGrant:
        """Mark a refresh token used and return its grant; a reused one revokes its family."""
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                """SELECT id, family_id, user_id, tenant_id, session_id, expire_time,
                          used_time, revoked_time
                   FROM auth.refresh_tokens WHERE token_hash = $1 FOR UPDATE""",
                token_hash(refresh_token))
            if row is None or row["revoked_time"] or row["expire_time"] <= datetime.now(UTC):
                raise invalid_refresh_token()
            grant = RefreshGrant(str(row["user_id"]), str(row["tenant_id"]), row["session_id"],
                                 row["family_id"])
            if row["used_time"] is not None:
                await self._revoke(connection, "family_id = $1", row["family_id"])
                reused = RefreshTokenReused(grant)
            else:
                await connection.execute(
                    "UPDATE auth.refresh_tokens SET used_time = now() WHERE id = $1", row["id"])
                return grant
        raise reused  # after the commit, so the family stays revoked

    async def revoke_session(self, session_id: str) -> None:
        """Revoke every refresh token of a session (logout)."""
        await self._revoke(self._pool, "session_id = $1", session_id)

    async def revoke_user(self, user_id: str) -> None:
        """Revoke every refresh token of a user (password reset)."""
        await self._revoke(self._pool, "user_id = $1", uuid.UUID(user_id))

    @staticmethod
    async def _revoke(executor: asyncpg.Pool | asyncpg.Connection, where: str,
                      value: object) -> None:
        await executor.execute(
            f"UPDATE auth.refresh_tokens SET revoked_time = now()"
            f" WHERE {where} AND revoked_time IS NULL", value)


def invalid_refresh_token() -> Unauthenticated:
    """Return the error for an unknown, expired or revoked refresh token."""
    return Unauthenticated("the refresh token is not valid; sign in again",
                           reason="INVALID_REFRESH_TOKEN")
