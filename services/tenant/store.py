"""Tenant rows in `platform.tenants` (asyncpg)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.runtime.errors import AlreadyExists
from services.tenant.domain.tenant import NewTenant, Plan, State, Tenant, tenant_not_found

_COLUMNS = "id, display_name, plan, state, create_time, update_time, limits, deactivate_time"

# Create the tenant's schema inside the transaction that inserts the tenant.
ProvisionHook = Callable[[asyncpg.Connection, str, str], Awaitable[None]]


@dataclass(frozen=True)
class FirstAdmin:
    """The tenant's first user, created with it: its owner."""

    email: str
    password_hash: str


class TenantStore:
    """Reads and writes tenants."""

    def __init__(self, pool: asyncpg.Pool, provision: ProvisionHook) -> None:
        self._pool = pool
        self._provision = provision

    async def create_in(self, connection: asyncpg.Connection, display_name: str,
                        plan: Plan) -> Tenant:
        """Insert and provision a tenant inside the caller's transaction (a restore's)."""
        row = await connection.fetchrow(
            f"""INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)
                RETURNING {_COLUMNS}""", uuid.uuid4(), display_name, plan.value)
        tenant = _tenant(row)
        await self._provision(connection, tenant.id, plan.value)
        return tenant

    async def create(self, new: NewTenant, admin: FirstAdmin | None) -> tuple[Tenant, str, bool]:
        """Insert the tenant, its schema and its first admin in one transaction.

        Return (tenant, admin user id, created); a repeated request id returns what it first
        created. A failure anywhere leaves no row, schema or role behind.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                f"""INSERT INTO platform.tenants (id, display_name, plan, request_id)
                    VALUES ($1, $2, $3, $4)
                    ON CONFLICT (request_id) DO NOTHING
                    RETURNING {_COLUMNS}""",
                uuid.uuid4(), new.display_name, new.plan.value, new.request_id)
            if row is None:  # the request id was used before: answer with that tenant
                row = await connection.fetchrow(
                    f"SELECT {_COLUMNS} FROM platform.tenants WHERE request_id = $1",
                    new.request_id)
                return _tenant(row), await _owner_of(connection, row["id"]), False
            tenant = _tenant(row)
            await self._provision(connection, tenant.id, tenant.plan.value)
            admin_id = await _insert_admin(connection, tenant.id, admin) if admin else ""
        return tenant, admin_id, True

    async def get(self, tenant_id: str) -> Tenant:
        """Return the tenant or raise NotFound."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM platform.tenants WHERE id = $1", uuid.UUID(tenant_id))
        if row is None:
            raise tenant_not_found(tenant_id)
        return _tenant(row)

    async def list(self, limit: int, after: tuple[datetime, str] | None,
                   show_deactivated: bool, plan: Plan | None) -> list[Tenant]:
        """Return up to `limit` tenants in creation order, after the keyset `after`."""
        after_time, after_id = after or (None, None)
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM platform.tenants
                WHERE ($1::timestamptz IS NULL OR (create_time, id) > ($1, $2::uuid))
                  AND ($3 OR state = 'active') AND ($4::text IS NULL OR plan = $4)
                ORDER BY create_time, id LIMIT $5""",
            after_time, uuid.UUID(after_id) if after_id else None, show_deactivated,
            plan.value if plan else None, limit)
        return [_tenant(row) for row in rows]

    async def update(self, tenant_id: str, changes: dict[str, object]) -> Tenant:
        """Apply validated changes (display_name, plan, limits merged into the overrides)."""
        plan = changes.get("plan")
        row = await self._pool.fetchrow(
            f"""UPDATE platform.tenants SET
                    display_name = coalesce($2, display_name),
                    plan = coalesce($3, plan),
                    limits = limits || $4::jsonb,
                    update_time = now()
                WHERE id = $1 RETURNING {_COLUMNS}""",
            uuid.UUID(tenant_id), changes.get("display_name"),
            plan.value if isinstance(plan, Plan) else None,
            json.dumps(changes.get("limits", {})))
        if row is None:
            raise tenant_not_found(tenant_id)
        return _tenant(row)

    async def set_state(self, tenant_id: str, state: State) -> Tenant:
        """Deactivate or reactivate a tenant."""
        row = await self._pool.fetchrow(
            f"""UPDATE platform.tenants SET state = $2, update_time = now(),
                    deactivate_time = CASE WHEN $2 = 'deactivated' THEN now() END
                WHERE id = $1 RETURNING {_COLUMNS}""", uuid.UUID(tenant_id), state.value)
        if row is None:
            raise tenant_not_found(tenant_id)
        return _tenant(row)

    @property
    def pool(self) -> asyncpg.Pool:
        """Return the pool, for reports that read the catalogue directly."""
        return self._pool

    async def deactivated_ids(self) -> list[str]:
        """Return the ids of every deactivated tenant."""
        rows = await self._pool.fetch("SELECT id FROM platform.tenants WHERE state = 'deactivated'")
        return [str(row["id"]) for row in rows]


async def _insert_admin(connection: asyncpg.Connection, tenant_id: str, admin: FirstAdmin) -> str:
    user_id = uuid.uuid4()
    try:
        await connection.execute(
            """INSERT INTO platform.users (id, tenant_id, email, display_name, roles)
               VALUES ($1, $2, $3, $3, ARRAY['owner'])""",
            user_id, uuid.UUID(tenant_id), admin.email)
    except asyncpg.UniqueViolationError:
        raise AlreadyExists("this email is already registered", reason="TENANT_ALREADY_EXISTS",
                            metadata={"email": admin.email}) from None
    await connection.execute(
        "INSERT INTO platform.credentials (user_id, password_hash) VALUES ($1, $2)",
        user_id, admin.password_hash)
    return str(user_id)


async def _owner_of(connection: asyncpg.Connection, tenant_id: uuid.UUID) -> str:
    owner = await connection.fetchval(
        """SELECT id FROM platform.users WHERE tenant_id = $1 AND 'owner' = ANY(roles)
           ORDER BY create_time LIMIT 1""", tenant_id)
    return str(owner) if owner else ""


def _tenant(row: asyncpg.Record) -> Tenant:
    limits = row["limits"]
    return Tenant(
        id=str(row["id"]), display_name=row["display_name"], plan=Plan(row["plan"]),
        state=State(row["state"]), create_time=row["create_time"],
        update_time=row["update_time"],
        limits=json.loads(limits) if isinstance(limits, str) else dict(limits or {}),
        deactivate_time=row["deactivate_time"])
