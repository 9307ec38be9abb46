"""What a tenant is and which new tenants are acceptable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.runtime.errors import FieldViolation, NotFound, require

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
    """Return the id in a resource name `tenants/{id}`, or fail with NOT_FOUND / bad name."""
    prefix, _, tenant_id = name.partition("/")
    require([FieldViolation("name", "must look like tenants/{id}")]
            if prefix != "tenants" or not tenant_id else [])
    try:
        return str(uuid.UUID(tenant_id))
    except ValueError:
        raise NotFound(f"tenant {tenant_id} does not exist", reason="TENANT_NOT_FOUND",
                       metadata={"tenantId": tenant_id}) from None
