"""Who may see and revoke which session, and which callers count as internal.

A session that a caller may not see is reported exactly like one that does not exist
(NOT_FOUND), so nobody learns which session ids belong to other users.
"""

from __future__ import annotations

from services.runtime.errors import PermissionDenied
from services.runtime.identity import Identity
from services.session.domain.events import (
    REASON_LOGOUT,
    REASON_REVOKED_BY_ADMIN,
    REASON_REVOKED_BY_USER,
)
from services.session.domain.session import Session, not_found

# Roles that manage every session of their own tenant.
ADMIN_ROLES = frozenset({"admin", "owner"})
# The SPIFFE name of the edge: it speaks for end users, never as an internal service.
EDGE = "edge"


def is_own(caller: Identity, session: Session) -> bool:
    """Tell whether `session` belongs to the caller."""
    return session.user_id == caller.user_id and session.tenant_id == caller.tenant_id


def is_tenant_admin(caller: Identity, tenant_id: str) -> bool:
    """Tell whether the caller administers `tenant_id`."""
    return caller.tenant_id == tenant_id and any(r.lower() in ADMIN_ROLES for r in caller.roles)


def may_manage(caller: Identity, session: Session) -> bool:
    """Tell whether the caller may see and revoke `session`."""
    return is_own(caller, session) or is_tenant_admin(caller, session.tenant_id)


def visible(caller: Identity, session: Session) -> Session:
    """Return `session` if the caller may manage it; otherwise fail as if it did not exist."""
    if not may_manage(caller, session):
        raise not_found(session.id)
    return session


def revoke_reason(caller: Identity, session: Session) -> str:
    """Return why `session` ends when the caller deletes it."""
    if not is_own(caller, session):
        return REASON_REVOKED_BY_ADMIN
    return REASON_LOGOUT if session.id == caller.session_id else REASON_REVOKED_BY_USER


def is_internal(peer: str) -> bool:
    """Tell whether `peer` is a mesh service (the sidecar admits only the topology's callers)."""
    return bool(peer) and peer != EDGE


def require_internal(peer: str, method: str) -> None:
    """Fail with PERMISSION_DENIED unless the call came from a mesh service."""
    if not is_internal(peer):
        raise PermissionDenied(f"{method} is internal; only services of the mesh may call it",
                               reason="UNTRUSTED_CALLER", metadata={"peer": peer or "unknown"})
