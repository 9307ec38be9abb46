"""What a tenant is and which new tenants are acceptable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.runtime.errors import FieldViolation, InvalidArgument, NotFound, require
from services.runtime.names import uuid_resource_id

MAX_DISPLAY_NAME = 100


class Plan(StrEnum):
    """The plan template a tenant's schema and limits come from."""

    BASIC = "basic"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


class State(StrEnum):
    """Whether a tenant's users may work."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Tenant:
    """A customer organisation (a broker or fintech) and its plan."""

    id: str
    display_name: str
    plan: Plan
    state: State
    create_time: datetime
    update_time: datetime
    limits: dict[str, int] = field(default_factory=dict)
    deactivate_time: datetime | None = None


@dataclass(frozen=True)
class NewTenant:
    """A validated request to create a tenant."""

    display_name: str
    plan: Plan
    request_id: str | None


def new_tenant(display_name: str, plan: Plan | None, request_id: str) -> NewTenant:
    """Validate a create request, naming every bad field at once."""
    name = display_name.strip()
    violations = []
    if not name:
        violations.append(FieldViolation("tenant.display_name", "must not be empty"))
    elif len(name) > MAX_DISPLAY_NAME:
        violations.append(FieldViolation(
            "tenant.display_name", f"must be at most {MAX_DISPLAY_NAME} characters"))
    if plan is None:
        violations.append(FieldViolation(
            "tenant.plan", "must be one of TENANT_PLAN_BASIC, _PROFESSIONAL, _ENTERPRISE"))
    require(violations)
    assert plan is not None
    return NewTenant(name, plan, request_id or None)


def parse_tenant_name(name: str) -> str:
    """Return the id in a resource name `tenants/{id}`; ids that cannot exist are NOT_FOUND."""
    return uuid_resource_id(name, "tenants", tenant_not_found)


def tenant_not_found(tenant_id: str) -> NotFound:
    """Return the error for a tenant that does not exist."""
    return NotFound(f"tenant {tenant_id} does not exist", reason="TENANT_NOT_FOUND",
                    metadata={"tenantId": tenant_id})


def parse_backup_name(name: str) -> tuple[str, str]:
    """Return (tenant id, backup id) of `tenants/{tenant}/backups/{backup}`."""
    parent, _, backup = name.rpartition("/backups/")
    if not backup or "/" in backup:
        raise InvalidArgument("name must look like tenants/{id}/backups/{id}", [
            FieldViolation("name", "must look like tenants/{id}/backups/{id}")])
    return parse_tenant_name(parent), backup
