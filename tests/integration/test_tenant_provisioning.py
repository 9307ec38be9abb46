"""Tenant schemas on a real PostgreSQL: templates, row-level security, roles, failures, migrations.

The module runs its own embedded PostgreSQL (migrations are applied to every tenant of a
database, so sharing the mesh's would touch other suites' tenants) and gives each test a new
database of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from services.runtime.tenancy import tenant_role, tenant_schema, tenant_transaction
from services.tenant.provisioning import (
    TEMPLATES_DIR,
    ProvisioningError,
    drop_tenant_schema,
    load_versions,
    migrate_tenants,
    prepare_database,
    provision,
    tenant_relations,
    tenant_schema_version,
)

REPO = Path(__file__).resolve().parents[2]

BASE_TABLES = {
    "portfolios", "cash_ledger_entries", "orders", "order_events", "trades", "positions",
    "watchlists", "watchlist_items", "preferences", "activities", "roles", "idempotency_keys",
    "outbox",
}
PLAN_TABLES = {
    "basic": BASE_TABLES,
    "professional": BASE_TABLES | {"price_alerts", "portfolio_snapshots"},
    "enterprise": BASE_TABLES | {"price_alerts", "portfolio_snapshots", "audit_log", "daily_pnl"},
}
APPEND_ONLY = {"cash_ledger_entries", "order_events", "trades", "activities",
               "portfolio_snapshots", "audit_log"}


@pytest.fixture(scope="module")
def postgres(private_postgres: str) -> str:
    """Return the DSN of this module's own PostgreSQL server."""
    return private_postgres


@pytest.fixture
async def database(postgres: str) -> AsyncIterator[str]:
    """Create a new database with the platform and tenant bookkeeping tables; yield its DSN."""
    name = f"provisioning_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    dsn = postgres.replace("/tradesage?", f"/{name}?")
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        await prepare_database(pool)
    finally:
        await pool.close()
    yield dsn


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """Return a pool on the test's database as the superuser (the embedded default)."""
    pool = await asyncpg.create_pool(database, min_size=1, max_size=6)
    yield pool
    await pool.close()


async def new_tenant(pool: asyncpg.Pool, plan: str = "basic", **options) -> str:
    """Insert a tenant row and provision its schema in one transaction, as CreateTenant does."""
    tenant_id = str(uuid.uuid4())
    async with pool.acquire() as connection, connection.transaction():
        await insert_tenant_row(connection, tenant_id, plan)
        await provision(connection, tenant_id, plan, **options)
    return tenant_id


async def insert_tenant_row(connection: asyncpg.Connection, tenant_id: str, plan: str) -> None:
    await connection.execute(
        "INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)",
        uuid.UUID(tenant_id), "Acme Brokers", plan)


async def tables(connection: asyncpg.Connection, tenant_id: str) -> dict[str, asyncpg.Record]:
    rows = await connection.fetch(
        """SELECT c.relname::text AS name, c.relrowsecurity,
                  (SELECT array_agg(polname::text) FROM pg_policy WHERE polrelid = c.oid)
                      AS policies,
                  has_table_privilege($2, c.oid, 'SELECT') AS can_select,
                  has_table_privilege($2, c.oid, 'INSERT') AS can_insert,
                  has_table_privilege($2, c.oid, 'UPDATE') AS can_update,
                  has_table_privilege($2, c.oid, 'DELETE') AS can_delete,
                  has_table_privilege($2, c.oid, 'TRUNCATE') AS can_truncate,
                  pg_get_expr(d.adbin, d.adrelid) AS tenant_default, a.attnotnull
           FROM pg_class c
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
           LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
           WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'""",
        tenant_schema(tenant_id), tenant_role(tenant_id))
    return {row["name"]: row for row in rows}


async def leftovers(pool: asyncpg.Pool, tenant_id: str) -> dict[str, int]:
    """Count what exists of a tenant: schema, role, tenant row, bookkeeping rows."""
    return dict(await pool.fetchrow(
        """SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1) AS schemas,
                  (SELECT count(*) FROM pg_roles WHERE rolname = $2) AS roles,
                  (SELECT count(*) FROM platform.tenants WHERE id = $3) AS tenants,
                  (SELECT count(*) FROM platform.tenant_schemas WHERE tenant_id = $3) AS books,
                  (SELECT count(*) FROM platform.tenant_schema_versions WHERE tenant_id = $3)
                      AS versions""",
        tenant_schema(tenant_id), tenant_role(tenant_id), uuid.UUID(tenant_id)))


def write_versions(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


@pytest.fixture
def scratch() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="tradesage-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("plan", ["basic", "professional", "enterprise"])
async def test_provisioning_creates_schema_role_and_secured_tables(pool, plan):
    tenant_id = await new_tenant(pool, plan)
    schema, role = tenant_schema(tenant_id), tenant_role(tenant_id)
    async with pool.acquire() as connection:
        found = await tables(connection, tenant_id)
        assert set(found) == PLAN_TABLES[plan]
        for name, table in found.items():
            assert table["relrowsecurity"], name
            assert table["policies"] == ["tenant_isolation"], name
            assert table["attnotnull"], name
            assert "current_setting('app.tenant_id'" in table["tenant_default"], name
            assert table["can_select"] and table["can_insert"], name
            assert not table["can_truncate"], name
            writable = name not in APPEND_ONLY
            assert table["can_update"] == writable and table["can_delete"] == writable, name

        role_row = await connection.fetchrow(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles"
            " WHERE rolname = $1", role)
        assert not any(role_row.values())
        assert await connection.fetchval("SELECT has_schema_privilege($1, $2, 'USAGE')",
                                         role, schema)
        assert not await connection.fetchval("SELECT has_schema_privilege($1, $2, 'CREATE')",
                                             role, schema)
        # PUBLIC (grantee 0) has nothing on the schema.
        assert not await connection.fetchval(
            """SELECT EXISTS (SELECT 1 FROM pg_namespace, aclexplode(nspacl) acl
                              WHERE nspname = $1 AND acl.grantee = 0)""", schema)
        sequences = await connection.fetch(
            """SELECT relname::text, has_sequence_privilege($2, oid, 'USAGE') AS usage,
                      has_sequence_privilege($2, oid, 'UPDATE') AS can_set
               FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'S'""",
            schema, role)
        assert sequences and all(s["usage"] and not s["can_set"] for s in sequences)
        # The role holds privileges in its own schema only.
        assert await connection.fetchval(
            """SELECT count(*) FROM pg_class c, aclexplode(c.relacl) acl
               WHERE acl.grantee = $2::regrole AND c.relnamespace <> $1::regnamespace""",
            schema, role) == 0
        # Besides its own schema it reaches only what PUBLIC may (USAGE on public), and may
        # create objects nowhere.
        assert await connection.fetchval(
            """SELECT array_agg(nspname::text ORDER BY nspname) FROM pg_namespace
               WHERE has_schema_privilege($1, oid, 'USAGE')
                 AND nspname NOT IN ('pg_catalog', 'information_schema')""",
            role) == ["public", schema]
        assert not await connection.fetchval(
            "SELECT bool_or(has_schema_privilege($1, oid, 'CREATE')) FROM pg_namespace", role)
        assert dict(await connection.fetchrow(
            "SELECT schema_name, role_name, plan FROM platform.tenant_schemas"
            " WHERE tenant_id = $1", uuid.UUID(tenant_id))) == {
                "schema_name": schema, "role_name": role, "plan": plan}
        # New tenants start at the latest version of the shipped tenant-schema migrations.
        assert await tenant_schema_version(connection, tenant_id) == len(load_versions())


async def test_plans_share_a_base_and_differ_by_their_additions(pool):
    found = {}
    for plan in ("basic", "professional", "enterprise"):
        tenant_id = await new_tenant(pool, plan)
        async with pool.acquire() as connection:
            found[plan] = set(await tenant_relations(connection, tenant_id))
    assert found["basic"] < found["professional"] < found["enterprise"]
    assert found["enterprise"] - found["professional"] == {"audit_log", "daily_pnl"}
    assert found == PLAN_TABLES


async def test_tenant_relations_lists_tables_after_those_they_reference(pool):
    tenant_id = await new_tenant(pool, "enterprise")
    async with pool.acquire() as connection:
        order = await tenant_relations(connection, tenant_id)
    position = {name: index for index, name in enumerate(order)}
    for child, parent in [("orders", "portfolios"), ("trades", "orders"),
                          ("cash_ledger_entries", "trades"), ("order_events", "trades"),
                          ("watchlist_items", "watchlists"), ("daily_pnl", "portfolios")]:
        assert position[parent] < position[child], order


async def test_tenant_tables_work_under_the_tenant_transaction(pool):
    tenant_id = await new_tenant(pool, "professional")
    async with tenant_transaction(pool, tenant_id) as connection:
        portfolio = await connection.fetchval(
            """INSERT INTO portfolios (user_id, display_name, base_currency_code)
               VALUES ($1, 'Long-term', 'USD') RETURNING id""", uuid.uuid4())
        order = await connection.fetchval(
            """INSERT INTO orders (portfolio_id, user_id, client_order_id, symbol, side,
                                   order_type, quantity, limit_price, currency_code)
               VALUES ($1, $2, 'c-1', 'AAPL', 'buy', 'limit', 10, 101.25, 'USD')
               RETURNING id""", portfolio, uuid.uuid4())
        await connection.execute(
            """INSERT INTO cash_ledger_entries
                   (portfolio_id, entry_type, amount, balance_after, currency_code)
               VALUES ($1, 'deposit', 10000.00, 10000.00, 'USD')""", portfolio)
        await connection.execute(
            """INSERT INTO order_events (order_id, event_type, order_snapshot, event_time)
               VALUES ($1, 'submitted', '{}', now())""", order)
        await connection.execute(
            "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)"
            " VALUES ('order', $1, 'OrderSubmitted', '{}')", str(order))
        row = await connection.fetchrow("SELECT tenant_id, limit_price FROM orders")
    assert str(row["tenant_id"]) == tenant_id
    assert str(row["limit_price"]) == "101.25"  # exact decimal, not a float


@pytest.mark.parametrize("failure", ["sql_error", "table_without_tenant_id", "bad_version"])
async def test_a_failure_midway_leaves_nothing_behind(pool, scratch, failure):
    templates = scratch / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    versions = scratch / "versions"
    enterprise = (templates / "enterprise.sql").read_text()
    if failure == "sql_error":  # after every table of the plan exists
        (templates / "enterprise.sql").write_text(enterprise + "\nSELECT 1 / 0;\n")
    elif failure == "table_without_tenant_id":  # refused by provisioning's own check
        (templates / "enterprise.sql").write_text(
            enterprise + "\nCREATE TABLE leaky (id bigint PRIMARY KEY);\n")
    else:
        write_versions(versions, {"001_ok.sql": "ALTER TABLE orders ADD COLUMN note text;",
                                  "002_bad.sql": "ALTER TABLE no_such_table ADD COLUMN x int;"})
    tenant_id = str(uuid.uuid4())
    async with pool.acquire() as connection:
        with pytest.raises((asyncpg.PostgresError, ProvisioningError)):
            async with connection.transaction():
                await insert_tenant_row(connection, tenant_id, "enterprise")
                await provision(connection, tenant_id, "enterprise",
                                templates_dir=templates, versions_dir=versions)
        # The connection is usable and its search_path untouched.
        assert await connection.fetchval("SHOW search_path") == '"$user", public'
    assert await leftovers(pool, tenant_id) == {
        "schemas": 0, "roles": 0, "tenants": 0, "books": 0, "versions": 0}


async def test_an_unknown_plan_is_refused_before_anything_runs(pool):
    async with pool.acquire() as connection:
        with pytest.raises(ProvisioningError, match="no schema template"):
            await provision(connection, str(uuid.uuid4()), "platinum")


async def test_drop_tenant_schema_removes_schema_role_and_bookkeeping(pool, scratch):
    versions = write_versions(scratch, {"001_note.sql": "ALTER TABLE orders ADD COLUMN note text;"})
    tenant_id = await new_tenant(pool, "enterprise", versions_dir=versions)
    assert await leftovers(pool, tenant_id) == {
        "schemas": 1, "roles": 1, "tenants": 1, "books": 1, "versions": 1}
    async with pool.acquire() as connection:
        await drop_tenant_schema(connection, tenant_id)
        await drop_tenant_schema(connection, tenant_id)  # again: nothing left to do
        assert await tenant_schema_version(connection, tenant_id) is None
    assert await leftovers(pool, tenant_id) == {
        "schemas": 0, "roles": 0, "tenants": 1, "books": 0, "versions": 0}
    # The tenant can be provisioned afresh, as a restore does.
    async with pool.acquire() as connection:
        await provision(connection, tenant_id, "basic")
        assert set(await tenant_relations(connection, tenant_id)) == PLAN_TABLES["basic"]


async def test_managed_postgres_service_user_without_superuser(postgres, database):
    # A service user that may create roles and schemas but is no superuser, as on managed
    # PostgreSQL: it must be made a member of each tenant role to SET ROLE to it.
    user = f"service_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database)
    try:
        await admin.execute(f"""
            CREATE ROLE {user} LOGIN CREATEROLE;
            GRANT CREATE ON DATABASE {database.split('?')[0].rsplit('/', 1)[1]} TO {user};
            GRANT USAGE ON SCHEMA platform TO {user};
            GRANT SELECT, INSERT, UPDATE, DELETE ON platform.tenants, platform.tenant_schemas,
                platform.tenant_schema_versions TO {user};""")
    finally:
        await admin.close()
    pool = await asyncpg.create_pool(database, user=user, min_size=1, max_size=2)
    try:
        assert not await pool.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        tenant_id = await new_tenant(pool, "basic")
        assert await pool.fetchval("SELECT pg_has_role(current_user, $1, 'SET')",
                                   tenant_role(tenant_id))
        async with tenant_transaction(pool, tenant_id) as connection:
            assert await connection.fetchval("SELECT current_user") == tenant_role(tenant_id)
            await connection.execute(
                "INSERT INTO watchlists (user_id, display_name) VALUES ($1, 'Tech')",
                uuid.uuid4())
            assert await connection.fetchval("SELECT count(*) FROM watchlists") == 1
        async with pool.acquire() as connection:
            await drop_tenant_schema(connection, tenant_id)
        assert await leftovers(pool, tenant_id) == {
            "schemas": 0, "roles": 0, "tenants": 1, "books": 0, "versions": 0}
    finally:
        await pool.close()


async def test_migrations_upgrade_existing_tenants_and_rerun_is_a_no_op(pool, scratch):
    versions = scratch / "versions"
    tenants = {plan: await new_tenant(pool, plan, versions_dir=versions)
               for plan in ("basic", "professional", "enterprise")}
    write_versions(versions, {
        "001_order_notes.sql": "ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT '';",
        "002_tags.sql": """
            CREATE TABLE tags (
                id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
                label text NOT NULL UNIQUE
            );""",
        "003_audit_reason.sql": "-- plans: enterprise\n"
                                "ALTER TABLE audit_log ADD COLUMN reason text;",
    })

    report = await migrate_tenants(pool, versions_dir=versions, concurrency=2)
    assert report.ok and report.latest_version == 3 and report.up_to_date == 0
    assert report.upgraded == {tenant_id: [1, 2, 3] for tenant_id in tenants.values()}

    async with pool.acquire() as connection:
        for plan, tenant_id in tenants.items():
            assert await tenant_schema_version(connection, tenant_id) == 3
            assert await connection.fetch(
                "SELECT version, name FROM platform.tenant_schema_versions"
                " WHERE tenant_id = $1 ORDER BY version", uuid.UUID(tenant_id)) == [
                    (1, "001_order_notes"), (2, "002_tags"), (3, "003_audit_reason")]
            found = await tables(connection, tenant_id)
            # A table a version adds is secured like a template's.
            assert found["tags"]["relrowsecurity"] and found["tags"]["policies"] == [
                "tenant_isolation"]
            assert found["tags"]["can_update"] and not found["tags"]["can_truncate"]
            has_reason = await connection.fetchval(
                "SELECT to_regclass($1) IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute"
                " WHERE attrelid = to_regclass($1) AND attname = 'reason')",
                f"{tenant_schema(tenant_id)}.audit_log")
            assert has_reason == (plan == "enterprise")
        async with tenant_transaction(pool, tenants["basic"]) as tenant:
            await tenant.execute("INSERT INTO tags (label) VALUES ('growth')")
            assert await tenant.fetch("SELECT note FROM orders") == []

    again = await migrate_tenants(pool, versions_dir=versions)
    assert again.ok and again.upgraded == {} and again.up_to_date == 3

    # A tenant created now starts at the latest version, with what the versions made.
    late = await new_tenant(pool, "enterprise", versions_dir=versions)
    async with pool.acquire() as connection:
        assert await tenant_schema_version(connection, late) == 3
        assert {"tags", *PLAN_TABLES["enterprise"]} == set(
            await tenant_relations(connection, late))
        for table, column in [("orders", "note"), ("audit_log", "reason")]:
            assert await connection.fetchval(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass"
                " AND attname = $2", f"{tenant_schema(late)}.{table}", column) == 1
    third = await migrate_tenants(pool, versions_dir=versions)
    assert third.upgraded == {} and third.up_to_date == 4


async def test_a_tenant_failing_midway_leaves_others_upgraded_and_a_rerun_finishes(pool, scratch):
    versions = scratch / "versions"
    tenants = [await new_tenant(pool, "basic", versions_dir=versions) for _ in range(5)]
    broken = tenants[2]
    write_versions(versions, {
        "001_order_notes.sql": "ALTER TABLE orders ADD COLUMN note text;",
        # Fails in one tenant's schema only, after 001 already ran in the same transaction.
        "002_flaky.sql": f"""
            ALTER TABLE positions ADD COLUMN mark numeric;
            DO $$ BEGIN
                IF current_schema() = '{tenant_schema(broken)}' THEN
                    RAISE EXCEPTION 'injected failure';
                END IF;
            END $$;""",
    })
    report = await migrate_tenants(pool, versions_dir=versions, concurrency=3)
    assert not report.ok and set(report.failed) == {broken}
    assert "injected failure" in report.failed[broken]
    assert set(report.upgraded) == set(tenants) - {broken}
    async with pool.acquire() as connection:
        for tenant_id in tenants:
            assert await tenant_schema_version(connection, tenant_id) == (
                0 if tenant_id == broken else 2)
        # The failed tenant's whole upgrade rolled back: not even 001's column is there.
        assert await connection.fetchval(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass"
            " AND attname = 'note'", f"{tenant_schema(broken)}.orders") == 0

    write_versions(versions, {"002_flaky.sql": "ALTER TABLE positions ADD COLUMN mark numeric;"})
    rerun = await migrate_tenants(pool, versions_dir=versions)
    assert rerun.ok and rerun.upgraded == {broken: [1, 2]} and rerun.up_to_date == 4
    async with pool.acquire() as connection:
        assert {await tenant_schema_version(connection, t) for t in tenants} == {2}


async def test_concurrent_runs_apply_each_version_once(pool, scratch):
    versions = scratch / "versions"
    tenants = [await new_tenant(pool, "basic", versions_dir=versions) for _ in range(6)]
    # Not idempotent on purpose: a second application would fail.
    write_versions(versions, {"001_note.sql": "ALTER TABLE orders ADD COLUMN note text;"})
    first, second = await asyncio.gather(
        migrate_tenants(pool, versions_dir=versions, concurrency=3),
        migrate_tenants(pool, versions_dir=versions, concurrency=3))
    assert first.ok and second.ok
    assert set(first.upgraded) | set(second.upgraded) == set(tenants)
    assert not set(first.upgraded) & set(second.upgraded)


async def test_migrate_command_upgrades_every_tenant(pool, database, scratch):
    versions = scratch / "versions"
    tenant_id = await new_tenant(pool, "basic", versions_dir=versions)
    write_versions(versions, {"001_note.sql": "ALTER TABLE orders ADD COLUMN note text;"})
    command = [sys.executable, "-m", "services.tenant.provisioning", "migrate",
               "--database-url", database, "--versions-dir", str(versions)]
    environment = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'generated'}"}
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True,
                                   timeout=60, cwd=REPO, env=environment)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["upgraded"] == {tenant_id: [1]} and summary["failed"] == {}
    async with pool.acquire() as connection:
        assert await tenant_schema_version(connection, tenant_id) == 1
