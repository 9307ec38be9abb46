"""Tenant isolation at the SQL level: what a connection inside `tenant_transaction` cannot reach.

Two tenants, A and B, provisioned like CreateTenant does, on this module's own PostgreSQL. Every
check runs as A's role in A's transaction, with B's data present.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from services.runtime.tenancy import tenant_role, tenant_schema, tenant_transaction
from services.tenant.provisioning import prepare_database, provision

DENIED = asyncpg.InsufficientPrivilegeError


@dataclass(frozen=True)
class Tenants:
    pool: asyncpg.Pool
    a: str
    b: str
    # A portfolio of each, written through its own tenant transaction.
    a_portfolio: uuid.UUID
    b_portfolio: uuid.UUID


@pytest.fixture(scope="module")
def postgres(private_postgres: str) -> str:
    """Return the DSN of this module's own PostgreSQL server."""
    return private_postgres


@pytest.fixture(scope="module")
async def tenants(postgres: str) -> AsyncIterator[Tenants]:
    pool = await asyncpg.create_pool(postgres, min_size=1, max_size=4)
    try:
        await prepare_database(pool)
        ids = []
        for plan in ("enterprise", "enterprise"):
            tenant_id = str(uuid.uuid4())
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(
                    "INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)",
                    uuid.UUID(tenant_id), "Tenant", plan)
                await provision(connection, tenant_id, plan)
            ids.append(tenant_id)
        portfolios = []
        for tenant_id in ids:
            async with tenant_transaction(pool, tenant_id) as connection:
                portfolios.append(await connection.fetchval(
                    """INSERT INTO portfolios (user_id, display_name, base_currency_code)
                       VALUES ($1, 'Main', 'USD') RETURNING id""", uuid.uuid4()))
        yield Tenants(pool, ids[0], ids[1], portfolios[0], portfolios[1])
    finally:
        await pool.close()


async def refused(pool: asyncpg.Pool, tenant_id: str, sql: str, *args: object,
                  error: type[Exception] | tuple[type[Exception], ...] = DENIED) -> str:
    """Run `sql` in the tenant's transaction; assert it fails with `error`; return the message."""
    with pytest.raises(error) as caught:
        async with tenant_transaction(pool, tenant_id) as connection:
            await connection.fetch(sql, *args)
    return str(caught.value)


async def test_a_tenant_reads_and_writes_its_own_tables(tenants):
    async with tenant_transaction(tenants.pool, tenants.a) as connection:
        assert await connection.fetchval("SELECT current_user") == tenant_role(tenants.a)
        assert await connection.fetch("SELECT id FROM portfolios") == [(tenants.a_portfolio,)]
        await connection.execute(
            """INSERT INTO cash_ledger_entries
                   (portfolio_id, entry_type, amount, balance_after, currency_code)
               VALUES ($1, 'deposit', 250.50, 250.50, 'USD')""", tenants.a_portfolio)
        await connection.execute(
            "UPDATE portfolios SET cash_balance = cash_balance + 250.50 WHERE id = $1",
            tenants.a_portfolio)
        await connection.execute(
            """INSERT INTO audit_log (action, resource, outcome)
               VALUES ('cash.deposit', $1, 'success')""", f"portfolios/{tenants.a_portfolio}")
        # Qualified by its own schema works as well.
        assert await connection.fetchval(
            f"SELECT cash_balance FROM {tenant_schema(tenants.a)}.portfolios") == 250.50


async def test_another_tenants_tables_are_permission_denied(tenants):
    other = tenant_schema(tenants.b)
    for table in ("portfolios", "orders", "cash_ledger_entries", "audit_log"):
        message = await refused(tenants.pool, tenants.a, f"SELECT * FROM {other}.{table}")
        assert "permission denied for schema" in message
    await refused(tenants.pool, tenants.a,
                  f"INSERT INTO {other}.watchlists (user_id, display_name) VALUES ($1, 'x')",
                  uuid.uuid4())
    await refused(tenants.pool, tenants.a, f"DELETE FROM {other}.portfolios")


async def test_search_path_to_another_tenants_schema_does_not_help(tenants):
    other, own = tenant_schema(tenants.b), tenant_schema(tenants.a)
    # A schema without USAGE is skipped in the search path: its tables are not even found.
    async with tenant_transaction(tenants.pool, tenants.a) as connection:
        await connection.execute(f"SET LOCAL search_path TO {other}")
        with pytest.raises(asyncpg.UndefinedTableError):
            await connection.fetch("SELECT * FROM portfolios")
    async with tenant_transaction(tenants.pool, tenants.a) as connection:
        await connection.execute(f"SET LOCAL search_path TO {other}, {own}")
        assert await connection.fetch("SELECT id FROM portfolios") == [(tenants.a_portfolio,)]


async def test_rows_of_another_tenant_id_are_refused_and_invisible(tenants):
    # Writing another tenant's id into one's own tables is refused by the policy's check.
    message = await refused(
        tenants.pool, tenants.a,
        """INSERT INTO portfolios (tenant_id, user_id, display_name, base_currency_code)
           VALUES ($1, $2, 'Smuggled', 'USD')""", uuid.UUID(tenants.b), uuid.uuid4())
    assert "row-level security" in message
    await refused(tenants.pool, tenants.a,
                  "UPDATE portfolios SET tenant_id = $1", uuid.UUID(tenants.b))

    # A row with another tenant id that got in anyway (here: the owner, who bypasses the
    # policy) cannot be seen, changed or deleted by the tenant.
    stray = await tenants.pool.fetchval(
        f"""INSERT INTO {tenant_schema(tenants.a)}.portfolios
                (tenant_id, user_id, display_name, base_currency_code)
            VALUES ($1, $2, 'Stray', 'USD') RETURNING id""", uuid.UUID(tenants.b), uuid.uuid4())
    async with tenant_transaction(tenants.pool, tenants.a) as connection:
        assert await connection.fetch("SELECT id FROM portfolios WHERE id = $1", stray) == []
        assert await connection.execute(
            "UPDATE portfolios SET display_name = 'Mine' WHERE id = $1", stray) == "UPDATE 0"
        assert await connection.execute(
            "DELETE FROM portfolios WHERE id = $1", stray) == "DELETE 0"

    # Claiming to be B through the setting shows nothing of A's, and still nothing of B's.
    async with tenant_transaction(tenants.pool, tenants.a) as connection:
        await connection.execute("SELECT set_config('app.tenant_id', $1, true)", tenants.b)
        assert await connection.fetch(
            "SELECT id FROM portfolios WHERE id <> $1", stray) == []
    await refused(tenants.pool, tenants.a,
                  "SELECT set_config('app.tenant_id', $1, true), "
                  f"(SELECT count(*) FROM {tenant_schema(tenants.b)}.portfolios)", tenants.b)
    await tenants.pool.execute(
        f"DELETE FROM {tenant_schema(tenants.a)}.portfolios WHERE id = $1", stray)


async def test_the_role_cannot_create_objects_anywhere(tenants):
    own, other = tenant_schema(tenants.a), tenant_schema(tenants.b)
    for statement in ("CREATE TABLE public.spill (x int)",
                      f"CREATE TABLE {other}.spill (x int)",
                      f"CREATE TABLE {own}.spill (x int)",
                      f"CREATE VIEW {own}.everything AS SELECT 1",
                      "CREATE SCHEMA spill",
                      f"CREATE FUNCTION {own}.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"):
        await refused(tenants.pool, tenants.a, statement)


async def test_the_role_cannot_read_the_platform_schema(tenants):
    for table in ("tenants", "users", "credentials", "tenant_schemas", "tenant_schema_versions"):
        message = await refused(tenants.pool, tenants.a, f"SELECT * FROM platform.{table}")
        assert "permission denied for schema platform" in message
    # Not covered, by PostgreSQL's design: SET ROLE / RESET ROLE are checked against the
    # session user (the service's), so a statement that changes role itself leaves the
    # confinement. It protects against query bugs, not against running untrusted SQL.


async def test_the_role_cannot_bypass_row_security_or_rewrite_history(tenants):
    # TRUNCATE would skip row-level security: the role does not have it.
    await refused(tenants.pool, tenants.a, "TRUNCATE watchlists")
    await refused(tenants.pool, tenants.a, "ALTER TABLE portfolios DISABLE ROW LEVEL SECURITY",
                  error=DENIED)
    await refused(tenants.pool, tenants.a, "DROP POLICY tenant_isolation ON portfolios")
    await refused(tenants.pool, tenants.a, "DROP TABLE orders")
    # Append-only tables take inserts and nothing else.
    await refused(tenants.pool, tenants.a, "UPDATE cash_ledger_entries SET amount = 1e9")
    await refused(tenants.pool, tenants.a, "DELETE FROM audit_log")
    await refused(tenants.pool, tenants.a,
                  "SELECT setval(pg_get_serial_sequence('outbox', 'id'), 1)")
