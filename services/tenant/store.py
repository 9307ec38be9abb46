"""Tenant rows in `platform.tenants` (asyncpg)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.tenant.domain.tenant import NewTenant, Plan, State, Tenant, tenant_not_found

_COLUMNS = "id, display_name, plan, state, create_time, update_time"


class TenantStore:
    """Reads and writes tenants."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, new: NewTenant) -> Tenant:
        """Insert a tenant; a repeated request id returns the tenant it first created."""
        row = await self._pool.fetchrow(
            f"""INSERT INTO platform.tenants (id, display_name, plan, request_id)
                VALUES ($1, $2, $3, $4)
                ON CONFLICT (request_id) DO NOTHING
                RETURNING {_COLUMNS}""",
            uuid.uuid4(), new.display_name, new.plan.value, new.request_id)
        if row is None:  # the request id was used before: answer with that tenant
            row = await self._pool.fetchrow(
                f"SELECT {_COLUMNS} FROM platform.tenants WHERE request_id = $1", new.request_id)
        return _tenant(row)

    async def get(self, tenant_id: str) -> Tenant:
        """Return the tenant or raise NotFound."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM platform.tenants WHERE id = $1", uuid.UUID(tenant_id))
        if row is None:
            raise tenant_not_found(tenant_id)
        return _tenant(row)

    async def list(self, limit: int, after: tuple[datetime, str] | None) -> list[Tenant]:
        """Return up to `limit` tenants in creation order, after the keyset `after`."""
        if after is None:
            rows = await self._pool.fetch(
                f"SELECT {_COLUMNS} FROM platform.tenants ORDER BY create_time, id LIMIT $1",
                limit)
        else:
            rows = await self._pool.fetch(
                f"""SELECT {_COLUMNS} FROM platform.tenants
                    WHERE (create_time, id) > ($1, $2) ORDER BY create_time, id LIMIT $3""",
                after[0], uuid.UUID(after[1]), limit)
        return [_tenant(row) for row in rows]


def _tenant(row: asyncpg.Record) -> Tenant:
    return Tenant(
        id=str(row["id"]), display_name=row["display_name"], plan=Plan(row["plan"]),
        state=State(row["state"]), create_time=row["create_time"],
        update_time=row["update_time"])
