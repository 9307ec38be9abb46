"""Schema-per-tenant isolation: names, and connections confined to one tenant.

Every tenant has a schema and a role named from a SHA-256 of its id. Tenant queries run in a
transaction under that role, with the schema as search path and the tenant id as a setting
that row-level security policies compare against, so a query bug cannot reach another tenant.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.runtime.database import mark_clean

TENANT_SETTING = "app.tenant_id"


def tenant_schema(tenant_id: str) -> str:
    """Return the schema name of a tenant (a valid, unquoted PostgreSQL identifier)."""
    digest = hashlib.sha256(str(uuid.UUID(tenant_id)).encode()).hexdigest()
    return f"tenant_{digest[:32]}"


def tenant_role(tenant_id: str) -> str:
    """Return the database role that can reach this tenant's schema and nothing else."""
    return f"{tenant_schema(tenant_id)}_role"


@asynccontextmanager
async def tenant_transaction(pool: asyncpg.Pool,
                             tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """Yield a connection in a transaction confined to the tenant's role, schema and rows.

    The body must not open nested `connection.transaction()` blocks (asyncpg refuses them in a
    transaction it did not start).
    """
    schema, role = tenant_schema(tenant_id), tenant_role(tenant_id)
    async with pool.acquire() as connection:
        # BEGIN and the four settings in one simple-protocol round trip: the names derive from
        # a hash and the id is a parsed UUID, so nothing here is caller text. SET LOCAL ends
        # with the transaction, so the connection goes back to the pool clean and its reset
        # query can be skipped. application_name lets the tenant's health report count its
        # connections in pg_stat_activity.
        try:
            await connection.execute(
                f"BEGIN; SET LOCAL ROLE {role}; SET LOCAL search_path TO {schema};"
                f" SET LOCAL application_name TO '{schema}';"
                f" SELECT set_config('{TENANT_SETTING}', '{uuid.UUID(tenant_id)}', true)")
            yield connection
        except BaseException:
            with contextlib.suppress(Exception):  # else the pool's release rolls back or drops it
                await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")
        mark_clean(connection)
