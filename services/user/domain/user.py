"""What a user profile is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.runtime.errors import NotFound
from services.runtime.names import uuid_resource_id


@dataclass(frozen=True)
class User:
    """A person who works in one tenant."""

    id: str
    tenant_id: str
    email: str
    display_name: str
    email_verified: bool
    roles: tuple[str, ...]
    create_time: datetime
    update_time: datetime


def parse_user_name(name: str) -> str:
    """Return the id in `users/{id}`; ids that cannot exist are NOT_FOUND."""
    return uuid_resource_id(name, "users", user_not_found)


def user_not_found(user_id: str) -> NotFound:
    """Return the error for a user that does not exist (or that the caller may not see)."""
    return NotFound(f"user {user_id} does not exist", reason="USER_NOT_FOUND",
                    metadata={"userId": user_id})
