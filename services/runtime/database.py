"""The PostgreSQL pool and the versioned migrations each service applies at start-up."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg

log = logging.getLogger("tradesage.database")

_LOCK = "tradesage:migrations"
_MIGRATIONS_TABLE = """
CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.schema_migrations (
    component text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
);
"""


# Connections whose last use left no session state behind (see `mark_clean`), by identity of
# their settings object, which a pooled connection and its proxy share.
_clean: set[int] = set()


def mark_clean(connection: asyncpg.Connection) -> None:
    """Note that `connection` changed nothing beyond its finished transaction.

    Its release then skips the reset query (advisory unlocks, UNLISTEN, RESET ALL), a round
    trip per transaction on the hot paths. Any connection not marked gets the full reset.
    """
    _clean.add(id(connection.get_settings()))


async def _forget_clean(connection: asyncpg.Connection) -> None:
    # A mark must not outlive its use: a connection closed without a reset leaves its key,
    # and a later connection's settings object could take the same id.
    _clean.discard(id(connection.get_settings()))


async def _reset_unless_clean(connection: asyncpg.Connection) -> None:
    key = id(connection.get_settings())
    if key in _clean:
        _clean.discard(key)
        return
    await connection.execute(connection.get_reset_query())


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10,
                      attempts: int = 30) -> asyncpg.Pool:
    """Open a pool, retrying while the server is still starting."""
    for attempt in range(1, attempts + 1):
        try:
            return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                             setup=_forget_clean, reset=_reset_unless_clean)
        except (OSError, asyncpg.CannotConnectNowError) as error:
            if attempt == attempts:
                raise
            log.info("database not ready, retrying", extra={"error": str(error)})
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def migrate(pool: asyncpg.Pool, component: str, directory: Path) -> list[int]:
    """Apply `NNN_name.sql` files not yet applied for `component`, in order; return them.

    Each file runs in its own transaction together with its bookkeeping row, under an
    advisory lock, so concurrent replicas starting together apply each version exactly once.
    """
    applied_now: list[int] = []
    async with pool.acquire() as connection:
        # One lock for all components: services start together and share the bookkeeping table.
        await connection.execute("SELECT pg_advisory_lock(hashtext($1))", _LOCK)
        try:
            await connection.execute(_MIGRATIONS_TABLE)
            done = {row["version"] for row in await connection.fetch(
                "SELECT version FROM platform.schema_migrations WHERE component = $1", component)}
            for version, path in _migration_files(directory):
                if version in done:
                    continue
                async with connection.transaction():
                    await connection.execute(path.read_text())
                    await connection.execute(
                        "INSERT INTO platform.schema_migrations (component, version, name)"
                        " VALUES ($1, $2, $3)", component, version, path.stem)
                applied_now.append(version)
        finally:
            await connection.execute("SELECT pg_advisory_unlock(hashtext($1))", _LOCK)
    return applied_now


def _migration_files(directory: Path) -> list[tuple[int, Path]]:
    files = []
    for path in sorted(directory.glob("*.sql")):
        number, _, _ = path.stem.partition("_")
        if not number.isdigit():
            raise ValueError(f"migration file name must start with a number: {path.name}")
        files.append((int(number), path))
    return files
