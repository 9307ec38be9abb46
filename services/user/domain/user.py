"""What a user profile is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.runtime.errors import NotFound
from services.runtime.names import resource_id, uuid_or_none


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
    user_id = resource_id(name, "users")
    canonical = uuid_or_none(user_id)
    if canonical is None:
        raise user_not_found(user_id)
    return canonical


def user_not_found(user_id: str) -> NotFound:
    """Return the error for a user that does not exist (or that the caller may not see)."""
    return NotFound(f"user {user_id} does not exist", reason="USER_NOT_FOUND",
                    metadata={"userId": user_id})
