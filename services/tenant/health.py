"""A tenant's health: schema size, rows per table, connections, slow queries, last backup."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.runtime.plans import Limits
from services.runtime.tenancy import tenant_role, tenant_schema

# Near a limit, a tenant is reported degraded before it starts failing writes.
DEGRADED_AT = 0.9

_TABLES = """
    SELECT c.relname AS table_name, pg_total_relation_size(c.oid) AS size_bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
"""
_SLOW = """
    SELECT query, calls, mean_exec_time, max_exec_time FROM pg_stat_statements
    WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = $1)
    ORDER BY mean_exec_time DESC LIMIT 5
"""


@dataclass(frozen=True)
class TableStat:
    """One table of the tenant's schema."""

    table_name: str
    row_count: int
    size_bytes: int


@dataclass(frozen=True)
class SlowQuery:
    """A statement the tenant's role ran, by mean time."""

    query: str
    calls: int
    mean_ms: float
    max_ms: float


@dataclass(frozen=True)
class Health:
    """The report GetTenantHealth returns."""

    status: str
    schema_name: str
    schema_size_bytes: int
    tables: list[TableStat]
    active_connections: int
    slow_queries: list[SlowQuery] = field(default_factory=list)
    last_backup_time: datetime | None = None
    last_backup: str = ""


async def tenant_health(pool: asyncpg.Pool, tenant_id: str, limits: Limits) -> Health:
    """Inspect the tenant's schema and activity."""
    schema = tenant_schema(tenant_id)
    async with pool.acquire() as connection:
        tables = await _table_stats(connection, schema)
        connections = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", schema)
        slow = await _slow_queries(connection, tenant_role(tenant_id))
        backup = await _last_backup(connection, tenant_id)
    size = sum(t.size_bytes for t in tables)
    return Health(_status(tables, size, limits), schema, size, tables, connections, slow,
                  *backup)


async def _table_stats(connection: asyncpg.Connection, schema: str) -> list[TableStat]:
    sizes = {r["table_name"]: r["size_bytes"] for r in await connection.fetch(_TABLES, schema)}
    if not sizes:
        return []
    # Exact counts in one round trip; names come from the catalogue and are quoted.
    counts = await connection.fetch(" UNION ALL ".join(
        f"SELECT {_literal(name)} AS t, count(*) AS n FROM {_ident(schema)}.{_ident(name)}"
        for name in sizes))
    rows = {r["t"]: r["n"] for r in counts}
    return [TableStat(name, rows[name], size) for name, size in sizes.items()]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _status(tables: list[TableStat], size: int, limits: Limits) -> str:
    if not tables:
        return "unhealthy"  # the schema is missing
    if limits.max_storage_bytes and size >= DEGRADED_AT * limits.max_storage_bytes:
        return "degraded"
    return "healthy"


async def _slow_queries(connection: asyncpg.Connection, role: str) -> list[SlowQuery]:
    if not await connection.fetchval(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"):
        return []
    try:
        rows = await connection.fetch(_SLOW, role)
    except asyncpg.PostgresError:  # installed but not preloaded: no statistics to show
        return []
    return [SlowQuery(r["query"], r["calls"], r["mean_exec_time"], r["max_exec_time"])
            for r in rows]


async def _last_backup(connection: asyncpg.Connection,
                       tenant_id: str) -> tuple[datetime | None, str]:
    if not await connection.fetchval("SELECT to_regclass('platform.tenant_backups') IS NOT NULL"):
        return None, ""
    row = await connection.fetchrow(
        """SELECT id, complete_time FROM platform.tenant_backups
           WHERE tenant_id = $1 AND state = 'ready' ORDER BY complete_time DESC LIMIT 1""",
        uuid.UUID(tenant_id))
    if row is None:
        return None, ""
    return row["complete_time"], f"tenants/{tenant_id}/backups/{row['id']}"
