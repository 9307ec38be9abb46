"""Single-use, expiring tokens sent by mail: email verification and password reset."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.auth.domain.tokens import new_opaque_token, token_hash
from services.runtime.errors import Unauthenticated

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


async def create_token(connection: asyncpg.Connection, purpose: str, user_id: str,
                       tenant_id: str, ttl_seconds: int) -> str:
    """Store the hash of a new token for `purpose` and return the token itself."""
    token = new_opaque_token()
    await connection.execute(
        """INSERT INTO auth.one_time_tokens (token_hash, purpose, user_id, tenant_id, expire_time)
           VALUES ($1, $2, $3, $4, $5)""",
        token_hash(token), purpose, uuid.UUID(user_id), uuid.UUID(tenant_id),
        datetime.now(UTC) + timedelta(seconds=ttl_seconds))
    return token


async def consume_token(connection: asyncpg.Connection, purpose: str, tenant_id: str,
                        token: str) -> str:
    """Use up a token (once, before it expires, in its tenant); return its user id."""
    try:
        tenant = uuid.UUID(tenant_id)
    except ValueError:
        raise invalid_token() from None
    user_id = await connection.fetchval(
        """UPDATE auth.one_time_tokens SET used_time = now()
           WHERE token_hash = $1 AND purpose = $2 AND tenant_id = $3
             AND used_time IS NULL AND expire_time > now()
           RETURNING user_id""", token_hash(token), purpose, tenant)
    if user_id is None:
        raise invalid_token()
    return str(user_id)


def invalid_token() -> Unauthenticated:
    """Return the error for an unknown, used or expired mailed token."""
    return Unauthenticated("the link is invalid, already used or expired; ask for a new one",
                           reason="INVALID_TOKEN")
