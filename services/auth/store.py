"""Users and credentials in the platform schema (asyncpg)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from services.auth.domain.registration import Registration
from services.runtime.errors import AlreadyExists, FailedPrecondition, NotFound
from services.runtime.plans import Limits, check_limit

_ACCOUNT = """
    SELECT u.id, u.tenant_id, u.email, u.display_name, u.roles, u.email_verified,
           coalesce(c.password_hash, '') AS password_hash, t.plan, t.state AS tenant_state
    FROM platform.users u
    LEFT JOIN platform.credentials c ON c.user_id = u.id  -- none for federated-only users
    JOIN platform.tenants t ON t.id = u.tenant_id
"""


@dataclass(frozen=True)
class Account:
    """What sign-in needs to know about a user."""

    user_id: str
    tenant_id: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    email_verified: bool
    password_hash: str
    plan: str
    tenant_active: bool


AfterInsert = Callable[[asyncpg.Connection, str], Awaitable[None]]


class AccountStore:
    """Creates users with their credentials and looks them up."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(self, registration: Registration, password_hash: str,
                       limits: Limits, after_insert: AfterInsert) -> str:
        """Insert user and credential, then run `after_insert` in the same transaction."""
        user_id = uuid.uuid4()
        tenant = uuid.UUID(registration.tenant_id)
        async with self._pool.acquire() as connection, connection.transaction():
            # The row lock serialises sign-ups per tenant, so the user limit holds under races.
            state = await connection.fetchval(
                "SELECT state FROM platform.tenants WHERE id = $1 FOR UPDATE", tenant)
            _check_tenant(registration.tenant_id, state)
            users = await connection.fetchval(
                "SELECT count(*) FROM platform.users WHERE tenant_id = $1", tenant)
            check_limit(limits, "max_users", users)
            try:
                await connection.execute(
                    """INSERT INTO platform.users (id, tenant_id, email, display_name)
                       VALUES ($1, $2, $3, $4)""",
                    user_id, uuid.UUID(registration.tenant_id), registration.email,
                    registration.display_name)
            except asyncpg.UniqueViolationError:
                raise AlreadyExists("this email is already registered in the tenant",
                                    reason="EMAIL_ALREADY_REGISTERED",
                                    metadata={"email": registration.email}) from None
            await connection.execute(
                "INSERT INTO platform.credentials (user_id, password_hash) VALUES ($1, $2)",
                user_id, password_hash)
            await after_insert(connection, str(user_id))
        return str(user_id)

    async def find(self, tenant_id: str, email: str) -> Account | None:
        """Return the account with this email in the tenant, if any."""
        try:
            tenant = uuid.UUID(tenant_id)
        except ValueError:
            return None
        row = await self._pool.fetchrow(
            _ACCOUNT + " WHERE u.tenant_id = $1 AND lower(u.email) = lower($2)",
            tenant, email.strip())
        return _account(row) if row else None

    async def get(self, user_id: str) -> Account | None:
        """Return the account of a user id, if it exists."""
        row = await self._pool.fetchrow(_ACCOUNT + " WHERE u.id = $1", uuid.UUID(user_id))
        return _account(row) if row else None

    async def mark_verified(self, connection: asyncpg.Connection, user_id: str) -> None:
        """Record that the user proved they own their email address."""
        await connection.execute(
            "UPDATE platform.users SET email_verified = true, update_time = now()"
            " WHERE id = $1", uuid.UUID(user_id))

    async def set_password(self, connection: asyncpg.Connection | asyncpg.Pool, user_id: str,
                           password_hash: str) -> None:
        """Store a new password hash."""
        await connection.execute(
            "UPDATE platform.credentials SET password_hash = $2, update_time = now()"
            " WHERE user_id = $1", uuid.UUID(user_id), password_hash)

    async def federated_user(self, tenant_id: str, issuer: str, subject: str) -> str | None:
        """Return the tenant's user linked to an OIDC identity, if any."""
        user_id = await self._pool.fetchval(
            """SELECT user_id FROM auth.oidc_links
               WHERE tenant_id = $1 AND issuer = $2 AND subject = $3""",
            uuid.UUID(tenant_id), issuer, subject)
        return str(user_id) if user_id else None

    async def link_federated(self, issuer: str, subject: str, tenant_id: str, email: str,
                             display_name: str) -> tuple[str, bool]:
        """Link an OIDC identity to the tenant's user with this (provider-verified) email,
        creating that user if there is none; return (user id, whether it was created)."""
        async with self._pool.acquire() as connection, connection.transaction():
            state = await connection.fetchval(
                "SELECT state FROM platform.tenants WHERE id = $1 FOR SHARE", uuid.UUID(tenant_id))
            _check_tenant(tenant_id, state)
            existing = await connection.fetchval(
                "SELECT id FROM platform.users WHERE tenant_id = $1 AND lower(email) = lower($2)",
                uuid.UUID(tenant_id), email)
            user_id = existing or uuid.uuid4()
            if existing is None:
                await connection.execute(
                    """INSERT INTO platform.users (id, tenant_id, email, display_name,
                                                   email_verified)
                       VALUES ($1, $2, $3, $4, true)""",
                    user_id, uuid.UUID(tenant_id), email, display_name[:100])
            await connection.execute(
                """INSERT INTO auth.oidc_links (tenant_id, issuer, subject, user_id)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
                uuid.UUID(tenant_id), issuer, subject, user_id)
        return str(user_id), existing is None

    @property
    def pool(self) -> asyncpg.Pool:
        """Return the pool, for flows that need a transaction across stores."""
        return self._pool


def _account(row: asyncpg.Record) -> Account:
    return Account(
        user_id=str(row["id"]), tenant_id=str(row["tenant_id"]), email=row["email"],
        display_name=row["display_name"], roles=tuple(row["roles"]),
        email_verified=row["email_verified"], password_hash=row["password_hash"],
        plan=row["plan"], tenant_active=row["tenant_state"] == "active")


def _check_tenant(tenant_id: str, state: str | None) -> None:
    if state is None:
        raise NotFound(f"tenant {tenant_id} does not exist", reason="TENANT_NOT_FOUND",
                       metadata={"tenantId": tenant_id})
    if state != "active":
        raise FailedPrecondition(f"tenant {tenant_id} is deactivated",
                                 reason="TENANT_UNAVAILABLE", metadata={"tenantId": tenant_id})
