"""Schema-per-tenant provisioning: a tenant's schema, role and tables, and their migrations.

A tenant's schema (`tenant_schema()`) is created from its plan's template in
`schema/templates/<plan>.sql` (a template may `-- extends: <other>`, so plans share a common
base), then brought to the latest version in `schema/versions/NNN_name.sql`. Every table gets
row-level security with the policy `tenant_isolation` (rows whose `tenant_id` is the
transaction's `app.tenant_id`), and the tenant's role (`tenant_role()`, NOLOGIN) gets USAGE on
this schema alone and explicit privileges on each of its tables and sequences: nothing on any
other schema. `tenancy.tenant_transaction` then confines a connection to that role.

Only indexed catalog lookups happen per tenant (objects are found through `pg_depend`, grants
name each table), so provisioning time stays flat as tenants accumulate; `GRANT ... ON ALL
TABLES IN SCHEMA` and `ALTER DEFAULT PRIVILEGES` scan `pg_class` and grow with every tenant.

Migrate every tenant to the latest version: `python -m services.tenant.provisioning migrate`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from services.runtime.database import migrate
from services.runtime.tenancy import TENANT_SETTING, tenant_role, tenant_schema

log = logging.getLogger("tradesage.tenant.provisioning")

SCHEMA_DIR = Path(__file__).with_name("schema")
TEMPLATES_DIR = SCHEMA_DIR / "templates"
VERSIONS_DIR = SCHEMA_DIR / "versions"
# The tenant service's component migrations: the bookkeeping tables in `platform`.
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

POLICY = "tenant_isolation"
# What a table gets when its template grants the tenant role nothing itself. Never TRUNCATE:
# row-level security does not apply to it.
DEFAULT_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"
# A migration waits at most this long for a lock on a busy tenant table, then fails that tenant
# (a rerun retries it) instead of stalling its traffic.
MIGRATION_LOCK_TIMEOUT = "5s"

_HEADER = re.compile(r"^--\s*(extends|plans)\s*:\s*(.+?)\s*$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# nullif: a custom setting that was set and then ended reads as '' rather than null.
_TENANT_MATCH = f"tenant_id = nullif(current_setting('{TENANT_SETTING}', true), '')::uuid"

# One row per table and sequence in a schema, found through their dependency on the schema
# (pg_depend's index on the referenced object) rather than a scan of pg_class by namespace.
_OBJECTS = """
SELECT c.relname::text AS name, c.relkind::text AS kind, c.relrowsecurity AS secured,
       a.attnum IS NOT NULL AND a.atttypid = 'uuid'::regtype AND a.attnotnull AS tenant_column,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $3) AS policy,
       CASE WHEN c.relkind = 'S'
            THEN has_sequence_privilege($2, c.oid, 'USAGE, SELECT, UPDATE')
            ELSE has_table_privilege(
                $2, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
       END AS granted
FROM pg_depend d
JOIN pg_class c ON c.oid = d.objid
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_namespace'::regclass
  AND d.refobjid = $1::regnamespace AND c.relkind IN ('r', 'p', 'S')
"""

_RECORD = """
WITH schema_row AS (
    INSERT INTO platform.tenant_schemas (tenant_id, schema_name, role_name, plan)
    VALUES ($1, $2, $3, $4)
)
INSERT INTO platform.tenant_schema_versions (tenant_id, version, name)
SELECT $1, number, name FROM unnest($5::integer[], $6::text[]) AS v(number, name)
"""


class ProvisioningError(RuntimeError):
    """A template or version cannot be used, or a schema breaks the isolation rules."""


@dataclass(frozen=True)
class SchemaVersion:
    """One file of `schema/versions`: a change to every tenant's schema."""

    number: int
    name: str
    sql: str
    # The templates it applies to; None for all.
    plans: frozenset[str] | None = None

    def applies_to(self, plan: str) -> bool:
        """Return whether tenants created from `plan` run this version (others just record it)."""
        return self.plans is None or plan in self.plans


@dataclass
class MigrationReport:
    """What one `migrate_tenants` run did."""

    latest_version: int
    # Tenants already at the latest version when the run started.
    up_to_date: int = 0
    # Tenant id -> the versions applied to it in this run.
    upgraded: dict[str, list[int]] = field(default_factory=dict)
    # Tenant id -> why its upgrade failed (it stays at its previous version).
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Return whether every tenant is at the latest version now."""
        return not self.failed

    def to_dict(self) -> dict[str, object]:
        """Return the report as JSON-ready values."""
        return {"latest_version": self.latest_version, "up_to_date": self.up_to_date,
                "upgraded": self.upgraded, "failed": self.failed,
                "seconds": round(self.seconds, 3)}


async def provision(connection: asyncpg.Connection, tenant_id: str, plan: str, *,
                    templates_dir: Path = TEMPLATES_DIR,
                    versions_dir: Path = VERSIONS_DIR) -> None:
    """Create the tenant's role and schema from `plan`'s template at the latest version.

    Call it in the transaction that inserted the tenant row, right after the insert: on any
    error nothing remains (no role, schema or bookkeeping rows) once that transaction rolls
    back. Outside a transaction it runs in one of its own.
    """
    plan, tenant = str(plan), uuid.UUID(str(tenant_id))  # a Plan enum or a UUID will do too
    fragments = load_template(plan, templates_dir)
    versions = load_versions(versions_dir)
    schema, role = _names(tenant)
    async with connection.transaction():
        search_path, superuser = await connection.fetchrow(
            "SELECT current_setting('search_path'), rolsuper FROM pg_roles"
            " WHERE rolname = current_user")
        script = [
            f"CREATE ROLE {role} NOLOGIN",
            # Managed PostgreSQL: the service's user needs the role to `SET ROLE` to it.
            *([] if superuser else [f"GRANT {role} TO CURRENT_USER"]),
            f"CREATE SCHEMA {schema}",
            f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"SET LOCAL search_path TO {schema}",
            *(_render(sql, schema, role) for sql in fragments),
            *(_render(v.sql, schema, role) for v in versions if v.applies_to(plan)),
        ]
        await connection.execute(";\n".join(script))
        await _secure(connection, schema, role)
        await connection.execute("SELECT set_config('search_path', $1, true)", search_path)
        await connection.execute(_RECORD, tenant, schema, role, plan,
                                 [v.number for v in versions], [v.name for v in versions])


async def drop_tenant_schema(connection: asyncpg.Connection, tenant_id: str) -> None:
    """Remove the tenant's schema with everything in it, its role and bookkeeping rows.

    The tenant row stays. Nothing happens for parts already gone, so it can be repeated.
    """
    schema, role = _names(tenant_id)
    async with connection.transaction():
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await connection.execute(f"DROP ROLE IF EXISTS {role}")
        await connection.execute(
            "DELETE FROM platform.tenant_schemas WHERE tenant_id = $1", uuid.UUID(str(tenant_id)))


async def tenant_relations(connection: asyncpg.Connection, tenant_id: str) -> list[str]:
    """Return the tables of the tenant's schema, unqualified, each after the tables it references.

    That is an order to load them in (restore) and, reversed, to empty them in.
    """
    schema, _ = _names(tenant_id)
    rows = await connection.fetch(
        """SELECT c.oid, c.relname::text AS name,
                  ARRAY(SELECT f.confrelid FROM pg_constraint f
                        WHERE f.conrelid = c.oid AND f.contype = 'f'
                          AND f.confrelid <> c.oid) AS references
           FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
           WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_namespace'::regclass
             AND d.refobjid = to_regnamespace($1) AND c.relkind IN ('r', 'p')
             AND NOT c.relispartition""", schema)
    names = {row["oid"]: row["name"] for row in rows}
    pending = {row["name"]: {names[o] for o in row["references"] if o in names} for row in rows}
    ordered: list[str] = []
    while pending:
        ready = sorted(name for name, needs in pending.items() if not needs)
        if not ready:  # a cycle of foreign keys: the rest in name order
            ready = sorted(pending)
        for name in ready:
            del pending[name]
        for needs in pending.values():
            needs.difference_update(ready)
        ordered.extend(ready)
    return ordered


async def tenant_schema_version(connection: asyncpg.Connection, tenant_id: str) -> int | None:
    """Return the tenant's schema version (0: template only), or None without a schema."""
    return await connection.fetchval(
        """SELECT coalesce((SELECT max(version) FROM platform.tenant_schema_versions v
                            WHERE v.tenant_id = s.tenant_id), 0)
           FROM platform.tenant_schemas s WHERE s.tenant_id = $1""", uuid.UUID(str(tenant_id)))


async def migrate_tenants(pool: asyncpg.Pool, *, versions_dir: Path = VERSIONS_DIR,
                          concurrency: int = 4) -> MigrationReport:
    """Bring every tenant's schema to the latest version in `versions_dir`.

    Each tenant's pending versions run in one transaction with their bookkeeping rows, under a
    lock on its bookkeeping row, so concurrent runs apply each version once and a tenant that
    fails (reported, not raised) stays at its previous version while the others go on; a
    rerun continues where the last one stopped.
    """
    started = time.perf_counter()
    versions = load_versions(versions_dir)
    latest = versions[-1].number if versions else 0
    rows = await pool.fetch(
        """SELECT s.tenant_id, coalesce(max(v.version), 0) AS version
           FROM platform.tenant_schemas s
           LEFT JOIN platform.tenant_schema_versions v USING (tenant_id)
           GROUP BY s.tenant_id ORDER BY s.tenant_id""")
    pending = [str(row["tenant_id"]) for row in rows if row["version"] < latest]
    report = MigrationReport(latest_version=latest, up_to_date=len(rows) - len(pending))

    async def work() -> None:
        while pending:
            tenant_id = pending.pop(0)
            try:
                applied = await _upgrade(pool, tenant_id, versions)
            except (asyncpg.PostgresError, ProvisioningError) as error:
                report.failed[tenant_id] = f"{type(error).__name__}: {error}"
                log.warning("tenant schema upgrade failed",
                            extra={"tenant_id": tenant_id, "error": str(error)})
            else:
                if applied:
                    report.upgraded[tenant_id] = applied

    await asyncio.gather(*(work() for _ in range(max(1, min(concurrency, len(pending))))))
    report.seconds = time.perf_counter() - started
    log.info("tenant schemas migrated", extra={
        "latest_version": latest, "upgraded": len(report.upgraded),
        "failed": len(report.failed), "up_to_date": report.up_to_date})
    return report


async def prepare_database(pool: asyncpg.Pool) -> None:
    """Apply the platform's and the tenant service's migrations (the bookkeeping tables)."""
    from services.runtime.server import PLATFORM_MIGRATIONS

    await migrate(pool, "platform", PLATFORM_MIGRATIONS)
    await migrate(pool, "tenant", MIGRATIONS_DIR)


def load_template(plan: str, templates_dir: Path = TEMPLATES_DIR) -> list[str]:
    """Return the SQL of `plan`'s template, after that of the templates it extends."""
    chain: dict[str, str] = {}
    name: str | None = plan
    while name is not None:
        path = templates_dir / f"{name}.sql"
        if not _IDENTIFIER.match(name) or not path.is_file():
            raise ProvisioningError(f"no schema template {name!r} in {templates_dir}")
        if name in chain:
            raise ProvisioningError(f"schema templates extend in a cycle: {[*chain, name]}")
        chain[name] = path.read_text()
        name = _headers(chain[name]).get("extends")
    return list(reversed(chain.values()))


def load_versions(versions_dir: Path = VERSIONS_DIR) -> list[SchemaVersion]:
    """Return the versions in `versions_dir` in order (none when it does not exist)."""
    versions: dict[int, SchemaVersion] = {}
    for path in sorted(versions_dir.glob("*.sql")) if versions_dir.is_dir() else ():
        number, _, _ = path.stem.partition("_")
        if not number.isdigit() or int(number) == 0:
            raise ProvisioningError(f"a version file is named NNN_name.sql: {path}")
        if int(number) in versions:
            raise ProvisioningError(f"two files for tenant schema version {int(number)}")
        text = path.read_text()
        plans = _headers(text).get("plans")
        versions[int(number)] = SchemaVersion(
            int(number), path.stem, text,
            frozenset(p.strip() for p in plans.split(",")) if plans else None)
    return [versions[n] for n in sorted(versions)]


async def _upgrade(pool: asyncpg.Pool, tenant_id: str,
                   versions: Sequence[SchemaVersion]) -> list[int]:
    """Apply the versions the tenant lacks in one transaction; return their numbers."""
    tenant = uuid.UUID(tenant_id)
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            """SELECT schema_name, role_name, plan FROM platform.tenant_schemas
               WHERE tenant_id = $1 FOR UPDATE""", tenant)
        if row is None:  # dropped since the run listed it
            return []
        current = await connection.fetchval(
            """SELECT coalesce(max(version), 0) FROM platform.tenant_schema_versions
               WHERE tenant_id = $1""", tenant)
        todo = [v for v in versions if v.number > current]
        if not todo:  # another run got here first
            return []
        schema, role = row["schema_name"], row["role_name"]
        script = [f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'",
                  f"SET LOCAL search_path TO {schema}",
                  *(_render(v.sql, schema, role) for v in todo if v.applies_to(row["plan"]))]
        await connection.execute(";\n".join(script))
        await _secure(connection, schema, role)
        await connection.executemany(
            """INSERT INTO platform.tenant_schema_versions (tenant_id, version, name)
               VALUES ($1, $2, $3)""", [(tenant, v.number, v.name) for v in todo])
        return [v.number for v in todo]


async def _secure(connection: asyncpg.Connection, schema: str, role: str) -> None:
    """Give every table of `schema` row-level security, the policy and grants it lacks."""
    statements = []
    for row in await connection.fetch(_OBJECTS, schema, role, POLICY):
        name = row["name"]
        if row["kind"] == "S":
            if not row["granted"]:
                statements.append(f"GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCE {name} TO {role}")
            continue
        if not row["tenant_column"]:
            raise ProvisioningError(
                f"table {schema}.{name} has no tenant_id uuid NOT NULL column")
        if not row["secured"]:
            statements.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
        if not row["policy"]:
            statements.append(f"CREATE POLICY {POLICY} ON {name}"
                              f" USING ({_TENANT_MATCH}) WITH CHECK ({_TENANT_MATCH})")
        if not row["granted"]:
            statements.append(f"GRANT {DEFAULT_TABLE_PRIVILEGES} ON {name} TO {role}")
    if statements:
        await connection.execute(";\n".join(statements))


def _names(tenant_id: str | uuid.UUID) -> tuple[str, str]:
    schema, role = tenant_schema(str(tenant_id)), tenant_role(str(tenant_id))
    # Both go into SQL unquoted: make sure they are plain identifiers.
    assert _IDENTIFIER.match(schema) and _IDENTIFIER.match(role), (schema, role)
    return schema, role


def _render(sql: str, schema: str, role: str) -> str:
    return sql.replace("{schema}", schema).replace("{role}", role)


def _headers(text: str) -> dict[str, str]:
    """Return the `-- key: value` lines of the comment block a file starts with."""
    found = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if match := _HEADER.match(line):
            found[match.group(1)] = match.group(2)
    return found


def main(argv: list[str] | None = None) -> int:
    """Run `migrate`: bring every tenant schema to the latest version; exit 1 if any failed."""
    parser = argparse.ArgumentParser(prog="python -m services.tenant.provisioning",
                                     description="Tenant schema provisioning and migrations.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("migrate", help="bring every tenant schema to the latest version")
    run.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                     help="PostgreSQL URL (default: DATABASE_URL, else the running embedded "
                          "default's, from TRADESAGE_DATA_DIR)")
    run.add_argument("--versions-dir", type=Path, default=VERSIONS_DIR)
    run.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database_url = args.database_url or _running_database_url()
    if not database_url:
        print("no database: set DATABASE_URL or start TradeSage with `make run`", file=sys.stderr)
        return 2
    report = asyncio.run(_migrate_command(database_url, args.versions_dir, args.concurrency))
    print(json.dumps(report.to_dict()))
    return 0 if report.ok else 1


async def _migrate_command(database_url: str, versions_dir: Path,
                           concurrency: int) -> MigrationReport:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=max(1, concurrency))
    try:
        await prepare_database(pool)
        return await migrate_tenants(pool, versions_dir=versions_dir, concurrency=concurrency)
    finally:
        await pool.close()


def _running_database_url() -> str:
    from mesh.supervisor import RUN_FILE, data_dir_from_env

    run_file = data_dir_from_env() / RUN_FILE
    return json.loads(run_file.read_text())["database_url"] if run_file.exists() else ""


if __name__ == "__main__":
    sys.exit(main())
