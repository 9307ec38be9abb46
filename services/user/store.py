"""User profiles in `platform.users` (asyncpg): reads, listing, profile updates, and the
columns projected from domain events (last sign-in, MFA)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.user.domain.user import User, UserState, user_not_found

_COLUMNS = """id, tenant_id, email, display_name, email_verified, roles, create_time,
              update_time, contact_phone, locale, time_zone, avatar_url, mfa_enabled,
              last_login_time"""
# Column names an update may set (the keys of domain.user.profile_changes).
_PROFILE_COLUMNS = frozenset({"display_name", "contact_phone", "locale", "time_zone",
                              "avatar_url"})


@dataclass(frozen=True)
class UserQuery:
    """A page of ListUsers: the tenant, the filters and where the previous page ended."""

    tenant_id: str
    limit: int
    role: str = ""
    state: UserState | None = None
    after_email: str | None = None


class UserStore:
    """Reads and changes user profiles."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, user_id: str) -> User:
        """Return the user or raise NotFound."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM platform.users WHERE id = $1", uuid.UUID(user_id))
        if row is None:
            raise user_not_found(user_id)
        return _user(row)

    async def get_in_tenant(self, user_id: str, tenant_id: str) -> User:
        """Return the user if it belongs to `tenant_id`; users of other tenants do not exist."""
        user = await self.get(user_id)
        if user.tenant_id != tenant_id:
            raise user_not_found(user_id)
        return user

    async def list(self, query: UserQuery) -> list[User]:
        """Return up to `query.limit` users of the tenant after `after_email`, by email."""
        if query.state not in (None, UserState.ACTIVE):
            return []  # locked and deactivated accounts are not tracked here yet
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM platform.users
                WHERE tenant_id = $1
                  AND ($2 = '' OR $2 = ANY(roles))
                  AND ($3::text IS NULL OR lower(email) > $3)
                ORDER BY lower(email) LIMIT $4""",
            uuid.UUID(query.tenant_id), query.role, query.after_email, query.limit)
        return [_user(row) for row in rows]

    async def update_profile(self, user_id: str, tenant_id: str,
                             changes: dict[str, str]) -> User:
        """Set the changed profile columns of a user of `tenant_id`; return the user."""
        unknown = set(changes) - _PROFILE_COLUMNS
        if unknown:
            raise ValueError(f"not profile columns: {sorted(unknown)}")
        names = sorted(changes)
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
        row = await self._pool.fetchrow(
            f"""UPDATE platform.users SET {assignments}, update_time = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING {_COLUMNS}""",
            uuid.UUID(user_id), uuid.UUID(tenant_id), *(changes[n] for n in names))
        if row is None:
            raise user_not_found(user_id)
        return _user(row)

    async def record_login(self, user_id: str, tenant_id: str, time: datetime) -> None:
        """Move the user's last sign-in time to `time` unless a later one is known."""
        await self._pool.execute(
            """UPDATE platform.users SET last_login_time = $3
               WHERE id = $1 AND tenant_id = $2
                 AND (last_login_time IS NULL OR last_login_time < $3)""",
            uuid.UUID(user_id), uuid.UUID(tenant_id), time)

    async def record_mfa(self, user_id: str, tenant_id: str, enabled: bool,
                         time: datetime) -> None:
        """Set whether MFA is on, unless a later MFA change was already applied."""
        await self._pool.execute(
            """UPDATE platform.users SET mfa_enabled = $3, mfa_change_time = $4
               WHERE id = $1 AND tenant_id = $2
                 AND (mfa_change_time IS NULL OR mfa_change_time < $4)""",
            uuid.UUID(user_id), uuid.UUID(tenant_id), enabled, time)


def _user(row: asyncpg.Record) -> User:
    return User(
        id=str(row["id"]), tenant_id=str(row["tenant_id"]), email=row["email"],
        display_name=row["display_name"], email_verified=row["email_verified"],
        roles=tuple(row["roles"]), create_time=row["create_time"],
        update_time=row["update_time"], contact_phone=row["contact_phone"],
        locale=row["locale"], time_zone=row["time_zone"], avatar_url=row["avatar_url"],
        mfa_enabled=row["mfa_enabled"], last_login_time=row["last_login_time"])
