"""Whose data a caller may see and change, within the caller's own tenant only.

Users of another tenant do not exist for the caller (NOT_FOUND, never PERMISSION_DENIED).
Within the tenant every member sees the directory entry of every other member; a user reads
and changes their own profile, preferences and activity; holders of `users.manage` (admins and
owners, or a custom role granting it) manage everyone's profile and read everyone's activity.
Preferences stay their owner's alone. The permission each RPC declares in the contract is
checked by the shared interceptor before any of this.
"""

from __future__ import annotations

from collections.abc import Collection

from services.runtime.errors import PermissionDenied
from services.runtime.identity import Identity

MANAGE_USERS = "users.manage"
LIST_USERS = "users.list"
OWN_PREFERENCES = "preferences.self"


def may_manage_users(permissions: Collection[str]) -> bool:
    """Return whether these permissions manage the other users of the caller's tenant."""
    return MANAGE_USERS in permissions


def is_self(caller: Identity, user_id: str, tenant_id: str) -> bool:
    """Return whether `user_id` of `tenant_id` is the caller."""
    return caller.user_id == user_id and caller.tenant_id == tenant_id


def require_self_or_manager(caller: Identity, permissions: Collection[str], user_id: str,
                            tenant_id: str) -> None:
    """Fail unless the caller is this user or manages the users of its tenant."""
    if not is_self(caller, user_id, tenant_id) and not may_manage_users(permissions):
        raise denied(MANAGE_USERS)


def require_permission(permissions: Collection[str], permission: str) -> None:
    """Fail unless `permission` is among the caller's permissions."""
    if permission not in permissions:
        raise denied(permission)


def denied(permission: str) -> PermissionDenied:
    """Return the error naming the permission the caller lacks."""
    return PermissionDenied(f"this needs the permission {permission}",
                            reason="PERMISSION_DENIED", metadata={"permission": permission})
