"""User profiles in `platform.users` (asyncpg)."""

from __future__ import annotations

import uuid

import asyncpg

from services.user.domain.user import User, user_not_found


class UserStore:
    """Reads user profiles."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, user_id: str) -> User:
        """Return the user or raise NotFound."""
        row = await self._pool.fetchrow(
            """SELECT id, tenant_id, email, display_name, email_verified, roles,
                      create_time, update_time
               FROM platform.users WHERE id = $1""", uuid.UUID(user_id))
        if row is None:
            raise user_not_found(user_id)
        return User(
            id=str(row["id"]), tenant_id=str(row["tenant_id"]), email=row["email"],
            display_name=row["display_name"], email_verified=row["email_verified"],
            roles=tuple(row["roles"]), create_time=row["create_time"],
            update_time=row["update_time"])
