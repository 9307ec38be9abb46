"""Tenant proto messages <-> domain objects."""

from __future__ import annotations

from tradesage.tenant.v1 import tenant_resources_pb2 as pb

from services.runtime.timestamps import to_timestamp
from services.tenant.domain.tenant import Plan, State, Tenant

_PLAN_TO_PROTO = {
    Plan.BASIC: pb.TENANT_PLAN_BASIC,
    Plan.PROFESSIONAL: pb.TENANT_PLAN_PROFESSIONAL,
    Plan.ENTERPRISE: pb.TENANT_PLAN_ENTERPRISE,
}
_PLAN_FROM_PROTO = {value: plan for plan, value in _PLAN_TO_PROTO.items()}
_STATE_TO_PROTO = {State.ACTIVE: pb.TENANT_STATE_ACTIVE,
                   State.DEACTIVATED: pb.TENANT_STATE_DEACTIVATED}


def plan_from_proto(value: int) -> Plan | None:
    """Return the plan, or None when unspecified or unknown."""
    return _PLAN_FROM_PROTO.get(value)  # type: ignore[call-overload]


def tenant_to_proto(tenant: Tenant) -> pb.Tenant:
    """Return the API resource of a tenant."""
    return pb.Tenant(
        name=f"tenants/{tenant.id}",
        id=tenant.id,
        display_name=tenant.display_name,
        plan=_PLAN_TO_PROTO[tenant.plan],
        state=_STATE_TO_PROTO[tenant.state],
        create_time=to_timestamp(tenant.create_time),
        update_time=to_timestamp(tenant.update_time),
    )
