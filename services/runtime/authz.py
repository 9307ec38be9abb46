"""One authorization model for every service.

Each RPC declares the permission it needs in the contract (`tradesage.type.v1.
required_permission`); the shared interceptor checks the caller's roles against it before the
servicer runs. Built-in roles form a hierarchy — owner > admin > trader > viewer — in which each
role has every permission of the roles below it; tenants add custom roles with explicit
permissions (optionally on top of a built-in role), kept in Valkey for every service to read.
Operators of the platform hold `platform-admin`, which has every permission.
"""

from __future__ import annotations

import json
import time
from functools import cache

from google.protobuf import descriptor_pool
from redis.asyncio import Redis
from tradesage.type.v1 import authz_pb2

from services.runtime.errors import PermissionDenied, Unauthenticated
from services.runtime.identity import Identity

PLATFORM_ADMIN = "platform-admin"
HIERARCHY = ("viewer", "trader", "admin", "owner")  # each has everything to its left
_OWN = {
    "viewer": {"account.self", "preferences.self", "profile.update", "activity.read",
               "market.read", "tenant.read", "users.read", "portfolios.read", "orders.read"},
    # Paper-trading portfolios are funded by their owners (portfolios are owner-only).
    "trader": {"orders.place", "orders.cancel", "orders.preview", "portfolios.manage",
               "cash.manage"},
    "admin": {"users.list", "users.manage", "roles.read", "roles.assign", "tenant.update",
              "tenant.monitor", "tenant.backup"},
    "owner": {"roles.manage", "tenant.delete", "tenant.restore"},
}
OPERATOR_ONLY = frozenset({"platform.tenants"})
CACHE_SECONDS = 5.0


def builtin_permissions(role: str) -> frozenset[str]:
    """Return a built-in role's permissions, inherited ones included (empty if unknown)."""
    if role == PLATFORM_ADMIN:
        return ALL_PERMISSIONS
    if role not in HIERARCHY:
        return frozenset()
    below = HIERARCHY[:HIERARCHY.index(role) + 1]
    return frozenset().union(*(_OWN[r] for r in below))


ALL_PERMISSIONS = frozenset().union(*_OWN.values(), OPERATOR_ONLY)


def custom_roles_key(tenant_id: str) -> str:
    """Return the Valkey hash of a tenant's custom roles: role name -> JSON definition."""
    return f"tenant-roles:{tenant_id}"


@cache
def required_permission(method: str) -> str | None:
    """Return the permission an RPC declares ("/pkg.Service/Method"), or None."""
    service, _, name = method.strip("/").partition("/")
    try:
        descriptor = descriptor_pool.Default().FindMethodByName(f"{service}.{name}")
    except KeyError:
        return None
    return descriptor.GetOptions().Extensions[authz_pb2.required_permission] or None


class Authorizer:
    """Resolve callers' permissions (custom roles from Valkey, briefly cached) and check them."""

    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis
        self._custom: dict[str, tuple[float, dict[str, frozenset[str]]]] = {}

    async def permissions(self, caller: Identity) -> frozenset[str]:
        """Return everything the caller may do."""
        granted = frozenset().union(*(builtin_permissions(r) for r in caller.roles))
        unknown = [r for r in caller.roles if r not in HIERARCHY and r != PLATFORM_ADMIN]
        if unknown:
            custom = await self._custom_roles(caller.tenant_id)
            granted = granted.union(*(custom.get(r, frozenset()) for r in unknown))
        return granted

    async def check(self, method: str, caller: Identity | None) -> None:
        """Fail unless the caller holds the permission `method` declares."""
        permission = required_permission(method)
        if permission is None:
            return
        if caller is None:
            raise Unauthenticated("this call needs a signed-in user", reason="UNAUTHENTICATED")
        if permission not in await self.permissions(caller):
            raise PermissionDenied(f"this needs the permission {permission}",
                                   reason="PERMISSION_DENIED",
                                   metadata={"permission": permission})

    async def _custom_roles(self, tenant_id: str) -> dict[str, frozenset[str]]:
        cached = self._custom.get(tenant_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        raw = await self._redis.hgetall(custom_roles_key(tenant_id)) if self._redis else {}
        roles = {name: custom_role_permissions(json.loads(spec)) for name, spec in raw.items()}
        self._custom[tenant_id] = (time.monotonic(), roles)
        return roles


def custom_role_permissions(spec: dict[str, object]) -> frozenset[str]:
    """Return a custom role's permissions: its base role's plus those it lists."""
    base = builtin_permissions(str(spec.get("inherits", "")))
    listed = frozenset(str(p) for p in spec.get("permissions", ()))  # type: ignore[attr-defined]
    return (base | listed) - OPERATOR_ONLY  # tenants cannot grant operator powers
