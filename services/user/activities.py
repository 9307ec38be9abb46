"""A user's activity log in the tenant schema's `activities` table (append-only).

An entry's id is the id of the event it records, and inserting it is a no-op when it exists:
an event delivered twice (a consumer crashed before acknowledging it) is recorded once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.runtime.tenancy import tenant_transaction
from services.user.domain.activity import Activity, ActivityFilter, ActivityKind


@dataclass(frozen=True)
class ActivityCursor:
    """Where a newest-first page ended: the last entry's time and id."""

    create_time: datetime
    id: str


_INSERT = """INSERT INTO activities (id, user_id, kind, description, ip_address, user_agent,
                                     session_id, attributes, create_time)
             VALUES ($1, $2, $3, $4, NULLIF($5::text, '')::inet, $6, NULLIF($7::text, ''),
                     $8::jsonb, $9)
             ON CONFLICT (id) DO NOTHING"""


def _arguments(activity: Activity) -> tuple[object, ...]:
    return (uuid.UUID(activity.id), uuid.UUID(activity.user_id), activity.kind.value,
            activity.description[:500], activity.ip_address, activity.user_agent[:512],
            activity.session_id, json.dumps(activity.attributes), activity.create_time)


async def insert_activity(connection: asyncpg.Connection, activity: Activity) -> bool:
    """Record `activity` inside a tenant transaction; return False if it was already there."""
    return bool(await connection.fetchval(f"{_INSERT} RETURNING true", *_arguments(activity)))


class ActivityStore:
    """Writes and lists activity entries, always inside the tenant's own transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, tenant_id: str, activity: Activity) -> bool:
        """Record `activity` in its tenant; return False if it was already recorded."""
        async with tenant_transaction(self._pool, tenant_id) as connection:
            return await insert_activity(connection, activity)

    async def add_all(self, tenant_id: str, activities: list[Activity]) -> None:
        """Record several activities of one tenant in one transaction (one round trip)."""
        if not activities:
            return
        async with tenant_transaction(self._pool, tenant_id) as connection:
            await connection.executemany(_INSERT, [_arguments(a) for a in activities])

    async def list(self, tenant_id: str, user_id: str, activity_filter: ActivityFilter,
                   limit: int, after: ActivityCursor | None) -> list[Activity]:
        """Return up to `limit` of the user's entries, newest first, after `after`."""
        async with tenant_transaction(self._pool, tenant_id) as connection:
            rows = await connection.fetch(
                """SELECT id, user_id, kind, description, host(ip_address) AS ip_address,
                          user_agent, session_id, attributes::text AS attributes, create_time
                   FROM activities
                   WHERE user_id = $1
                     AND (cardinality($2::text[]) = 0 OR kind = ANY($2::text[]))
                     AND ($3::timestamptz IS NULL OR create_time >= $3)
                     AND ($4::timestamptz IS NULL OR create_time < $4)
                     AND ($5::timestamptz IS NULL OR (create_time, id) < ($5, $6::uuid))
                   ORDER BY create_time DESC, id DESC
                   LIMIT $7""",
                uuid.UUID(user_id), [k.value for k in activity_filter.kinds],
                activity_filter.start_time, activity_filter.end_time,
                after.create_time if after else None,
                uuid.UUID(after.id) if after else None, limit)
        return [_activity(row) for row in rows]


def _activity(row: asyncpg.Record) -> Activity:
    return Activity(
        id=str(row["id"]), user_id=str(row["user_id"]), kind=ActivityKind(row["kind"]),
        description=row["description"], create_time=row["create_time"],
        ip_address=row["ip_address"] or "", user_agent=row["user_agent"],
        session_id=row["session_id"] or "", attributes=json.loads(row["attributes"]))
