"""Who may see which tenants."""

from __future__ import annotations

from services.runtime.errors import PermissionDenied
from services.runtime.identity import Identity

# Operators of the platform itself, above every tenant.
PLATFORM_ADMIN_ROLE = "platform-admin"


def may_see_tenant(caller: Identity, tenant_id: str) -> bool:
    """Return whether `caller` may read tenant `tenant_id`: their own, or any as an operator."""
    return caller.tenant_id == tenant_id or PLATFORM_ADMIN_ROLE in caller.roles


def require_platform_admin(caller: Identity) -> None:
    """Fail unless the caller operates the platform."""
    if PLATFORM_ADMIN_ROLE not in caller.roles:
        raise PermissionDenied("listing every tenant needs the platform-admin role",
                               reason="PERMISSION_DENIED",
                               metadata={"permission": PLATFORM_ADMIN_ROLE})


def require_any_role(caller: Identity, roles: frozenset[str], permission: str) -> None:
    """Fail with PERMISSION_DENIED unless the caller holds one of `roles` (or operates)."""
    if not (roles | {PLATFORM_ADMIN_ROLE}) & set(caller.roles):
        raise PermissionDenied(f"this needs one of the roles {', '.join(sorted(roles))}",
                               reason="PERMISSION_DENIED", metadata={"permission": permission})
