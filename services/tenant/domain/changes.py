"""Which tenant fields an update may change, and who may change them (AIP-134 FieldMask)."""

from __future__ import annotations

from dataclasses import fields

from services.runtime.errors import FieldViolation, InvalidArgument, PermissionDenied, require
from services.runtime.identity import Identity
from services.runtime.plans import Limits
from services.tenant.domain.access import PLATFORM_ADMIN_ROLE
from services.tenant.domain.tenant import MAX_DISPLAY_NAME, Plan

LIMIT_NAMES = frozenset(f.name for f in fields(Limits))
# Tenant admins may rename their tenant; plan, limits and state are the operator's.
TENANT_ADMIN_PATHS = frozenset({"display_name"})
TENANT_ADMIN_ROLES = frozenset({"owner", "admin"})


def tenant_changes(paths: list[str], display_name: str, plan: Plan | None,
                   limits: dict[str, int]) -> dict[str, object]:
    """Return the validated changes the mask names: display_name, plan, limits (merged)."""
    if not paths:
        raise InvalidArgument("name the fields to change in update_mask", [
            FieldViolation("update_mask", "must name at least one field")])
    changes: dict[str, object] = {}
    violations: list[FieldViolation] = []
    for path in paths:
        head, _, limit = path.partition(".")
        if path == "display_name":
            if not display_name.strip() or len(display_name) > MAX_DISPLAY_NAME:
                violations.append(FieldViolation("tenant.display_name",
                                                 f"must be 1 to {MAX_DISPLAY_NAME} characters"))
            changes["display_name"] = display_name.strip()
        elif path == "plan":
            if plan is None:
                violations.append(FieldViolation("tenant.plan", "must be a plan"))
            changes["plan"] = plan
        elif head == "limits" and (not limit or limit in LIMIT_NAMES):
            chosen = {limit: limits.get(limit, 0)} if limit else limits
            if any(value < 0 for value in chosen.values()):
                violations.append(FieldViolation(f"tenant.{path}", "must not be negative"))
            changes.setdefault("limits", {}).update(chosen)  # type: ignore[union-attr]
        else:
            violations.append(FieldViolation(
                "update_mask", f"{path} cannot be updated", "FIELD_NOT_UPDATABLE"))
    require(violations, "the update is not valid")
    return changes


def check_may_change(caller: Identity, tenant_id: str, changes: dict[str, object]) -> None:
    """Let operators change anything, and a tenant's own admins only its display name."""
    if PLATFORM_ADMIN_ROLE in caller.roles:
        return
    own_admin = caller.tenant_id == tenant_id and TENANT_ADMIN_ROLES & set(caller.roles)
    if not own_admin or set(changes) - TENANT_ADMIN_PATHS:
        raise PermissionDenied("changing this needs the platform-admin role",
                               reason="PERMISSION_DENIED",
                               metadata={"permission": PLATFORM_ADMIN_ROLE})
