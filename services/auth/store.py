"""Users and credentials in the platform schema (asyncpg)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from services.auth.domain.registration import Registration
from services.runtime.errors import AlreadyExists, FailedPrecondition, NotFound


@dataclass(frozen=True)
class Account:
    """What login needs to know about a user."""

    user_id: str
    tenant_id: str
    password_hash: str
    roles: tuple[str, ...]


class AccountStore:
    """Creates users with their credentials and looks them up for login."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(self, registration: Registration, password_hash: str) -> str:
        """Insert the user and credential in one transaction; return the user id."""
        user_id = uuid.uuid4()
        async with self._pool.acquire() as connection, connection.transaction():
            state = await connection.fetchval(
                "SELECT state FROM platform.tenants WHERE id = $1 FOR SHARE",
                uuid.UUID(registration.tenant_id))
            _check_tenant(registration.tenant_id, state)
            try:
                await connection.execute(
                    """INSERT INTO platform.users (id, tenant_id, email, display_name)
                       VALUES ($1, $2, $3, $4)""",
                    user_id, uuid.UUID(registration.tenant_id), registration.email,
                    registration.display_name)
            except asyncpg.UniqueViolationError:
                raise AlreadyExists("this email is already registered in the tenant",
                                    reason="EMAIL_TAKEN",
                                    metadata={"email": registration.email}) from None
            await connection.execute(
                "INSERT INTO platform.credentials (user_id, password_hash) VALUES ($1, $2)",
                user_id, password_hash)
        return str(user_id)

    async def find(self, tenant_id: str, email: str) -> Account | None:
        """Return the active account with this email in the tenant, if any."""
        try:
            tenant = uuid.UUID(tenant_id)
        except ValueError:
            return None
        row = await self._pool.fetchrow(
            """SELECT u.id, u.tenant_id, c.password_hash, u.roles
               FROM platform.users u
               JOIN platform.credentials c ON c.user_id = u.id
               JOIN platform.tenants t ON t.id = u.tenant_id AND t.state = 'active'
               WHERE u.tenant_id = $1 AND lower(u.email) = lower($2)""",
            tenant, email.strip())
        if row is None:
            return None
        return Account(str(row["id"]), str(row["tenant_id"]), row["password_hash"],
                       tuple(row["roles"]))

    async def profile(self, user_id: str, tenant_id: str) -> dict[str, object] | None:
        """Return the user's email, name, roles and verification state within its tenant."""
        row = await self._pool.fetchrow(
            """SELECT email, display_name, roles, email_verified FROM platform.users
               WHERE id = $1 AND tenant_id = $2""", uuid.UUID(user_id), uuid.UUID(tenant_id))
        return dict(row) if row else None

    async def replace_hash(self, user_id: str, password_hash: str) -> None:
        """Store a re-computed hash (after a change of hashing parameters)."""
        await self._pool.execute(
            "UPDATE platform.credentials SET password_hash = $2, update_time = now()"
            " WHERE user_id = $1", uuid.UUID(user_id), password_hash)


def _check_tenant(tenant_id: str, state: str | None) -> None:
    if state is None:
        raise NotFound(f"tenant {tenant_id} does not exist", reason="TENANT_NOT_FOUND",
                       metadata={"tenantId": tenant_id})
    if state != "active":
        raise FailedPrecondition(f"tenant {tenant_id} is deactivated",
                                 reason="TENANT_DEACTIVATED", metadata={"tenantId": tenant_id})
