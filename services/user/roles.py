"""Roles of a tenant: the built-in hierarchy plus custom roles, and who may grant what.

Custom roles live in the tenant's schema (the record) and in Valkey (what every service's
authorizer reads); both are written together, Valkey after the commit.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from redis.asyncio import Redis

from services.runtime.authz import (
    ALL_PERMISSIONS,
    HIERARCHY,
    OPERATOR_ONLY,
    PLATFORM_ADMIN,
    builtin_permissions,
    custom_role_permissions,
    custom_roles_key,
)
from services.runtime.errors import AlreadyExists, FieldViolation, PermissionDenied, require
from services.runtime.tenancy import tenant_transaction

_ROLE_KEY = re.compile(r"^[a-z][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class RoleRecord:
    """A role as the API shows it."""

    key: str
    display_name: str
    description: str
    permissions: tuple[str, ...]
    system: bool
    inherits: str = ""
    create_time: datetime | None = None


def builtin_roles() -> list[RoleRecord]:
    """Return the built-in roles, lowest first."""
    return [RoleRecord(role, role.title(), f"Built-in {role} role",
                       tuple(sorted(builtin_permissions(role))), True) for role in HIERARCHY]


def validate_custom_role(key: str, display_name: str, permissions: list[str],
                         inherits: str) -> None:
    """Check a new custom role's fields, naming every bad one."""
    grantable = ALL_PERMISSIONS - OPERATOR_ONLY
    violations = []
    if not _ROLE_KEY.match(key) or key in HIERARCHY or key == PLATFORM_ADMIN:
        violations.append(FieldViolation(
            "role_id", "must be 2-63 lowercase letters, digits or dashes, not a built-in role"))
    if not display_name.strip() or len(display_name) > 100:
        violations.append(FieldViolation("role.display_name", "must be 1 to 100 characters"))
    if unknown := sorted(set(permissions) - grantable):
        violations.append(FieldViolation("role.permissions", f"unknown: {', '.join(unknown)}"))
    if inherits and inherits not in HIERARCHY:
        violations.append(FieldViolation("role.inherits", "must be a built-in role"))
    require(violations, "the role is not valid")


def check_may_grant(granter: frozenset[str], roles: list[str],
                    custom: dict[str, frozenset[str]]) -> None:
    """Refuse to grant a role with more permissions than the granter holds."""
    for role in roles:
        granted = builtin_permissions(role) if role in HIERARCHY else custom.get(role)
        if granted is None or role == PLATFORM_ADMIN:
            raise PermissionDenied(f"{role} is not a role of this tenant",
                                   reason="PERMISSION_DENIED", metadata={"role": role})
        if not granted <= granter:
            raise PermissionDenied(f"granting {role} needs every permission it carries",
                                   reason="PERMISSION_DENIED",
                                   metadata={"permission": ",".join(sorted(granted - granter))})


class RoleStore:
    """Custom roles in the tenant schema, mirrored to Valkey for the authorizers."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis) -> None:
        self._pool = pool
        self._redis = redis

    async def custom(self, tenant_id: str) -> list[RoleRecord]:
        """Return the tenant's custom roles."""
        async with tenant_transaction(self._pool, tenant_id) as connection:
            rows = await connection.fetch(
                """SELECT role_key, display_name, description, permissions, inherits, create_time
                   FROM roles ORDER BY role_key""")
        return [RoleRecord(r["role_key"], r["display_name"], r["description"],
                           tuple(r["permissions"]), False, r["inherits"], r["create_time"])
                for r in rows]

    async def create(self, tenant_id: str, role: RoleRecord) -> RoleRecord:
        """Store a custom role and publish it to every service."""
        try:
            async with tenant_transaction(self._pool, tenant_id) as connection:
                created = await connection.fetchval(
                    """INSERT INTO roles (role_key, display_name, description, permissions,
                                          inherits) VALUES ($1, $2, $3, $4, $5)
                       RETURNING create_time""",
                    role.key, role.display_name.strip(), role.description,
                    list(role.permissions), role.inherits)
        except asyncpg.UniqueViolationError:
            raise AlreadyExists(f"role {role.key} exists", reason="ROLE_ALREADY_EXISTS",
                                metadata={"role": role.key}) from None
        await self._redis.hset(custom_roles_key(tenant_id), role.key, json.dumps(
            {"permissions": list(role.permissions), "inherits": role.inherits}))
        return RoleRecord(role.key, role.display_name, role.description, role.permissions,
                          False, role.inherits, created)

    async def permissions_by_role(self, tenant_id: str) -> dict[str, frozenset[str]]:
        """Return each custom role's effective permissions."""
        return {r.key: custom_role_permissions({"permissions": r.permissions,
                                                "inherits": r.inherits})
                for r in await self.custom(tenant_id)}

    async def assign(self, tenant_id: str, user_id: str, roles: list[str]) -> list[str]:
        """Replace a user's roles (they apply from the user's next token)."""
        updated = await self._pool.fetchval(
            """UPDATE platform.users SET roles = $3, update_time = now()
               WHERE id = $1 AND tenant_id = $2 RETURNING roles""",
            uuid.UUID(user_id), uuid.UUID(tenant_id), roles)
        return list(updated) if updated is not None else []
