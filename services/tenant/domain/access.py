"""Who may see which tenants, beyond the permission each RPC declares."""

from __future__ import annotations

from services.runtime.authz import PLATFORM_ADMIN
from services.runtime.errors import PermissionDenied
from services.runtime.identity import Identity

PLATFORM_ADMIN_ROLE = PLATFORM_ADMIN


def may_see_tenant(caller: Identity, tenant_id: str) -> bool:
    """Return whether `caller` may read tenant `tenant_id`: their own, or any as an operator."""
    return caller.tenant_id == tenant_id or PLATFORM_ADMIN_ROLE in caller.roles


def require_platform_admin(caller: Identity) -> None:
    """Fail unless the caller operates the platform (e.g. to create a tenant by restoring)."""
    if PLATFORM_ADMIN_ROLE not in caller.roles:
        raise PermissionDenied("this needs the platform-admin role", reason="PERMISSION_DENIED",
                               metadata={"permission": PLATFORM_ADMIN_ROLE})
