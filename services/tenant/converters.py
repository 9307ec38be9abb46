"""Tenant proto messages <-> domain objects."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from tradesage.tenant.v1 import tenant_resources_pb2 as pb

from services.runtime.plans import PLAN_LIMITS
from services.runtime.timestamps import to_timestamp
from services.tenant.backup import BackupRecord
from services.tenant.domain.changes import LIMIT_NAMES
from services.tenant.domain.tenant import Plan, State, Tenant
from services.tenant.health import Health

_PLAN_TO_PROTO = {
    Plan.BASIC: pb.TENANT_PLAN_BASIC,
    Plan.PROFESSIONAL: pb.TENANT_PLAN_PROFESSIONAL,
    Plan.ENTERPRISE: pb.TENANT_PLAN_ENTERPRISE,
}
_PLAN_FROM_PROTO = {value: plan for plan, value in _PLAN_TO_PROTO.items()}
_STATE_TO_PROTO = {State.ACTIVE: pb.TENANT_STATE_ACTIVE,
                   State.DEACTIVATED: pb.TENANT_STATE_DEACTIVATED}
_BACKUP_STATES = {"creating": pb.BACKUP_STATE_CREATING, "ready": pb.BACKUP_STATE_READY,
                  "failed": pb.BACKUP_STATE_FAILED}
_HEALTH = {"healthy": pb.TENANT_HEALTH_STATUS_HEALTHY,
           "degraded": pb.TENANT_HEALTH_STATUS_DEGRADED,
           "unhealthy": pb.TENANT_HEALTH_STATUS_UNHEALTHY}


def plan_from_proto(value: int) -> Plan | None:
    """Return the plan, or None when unspecified or unknown."""
    return _PLAN_FROM_PROTO.get(value)  # type: ignore[call-overload]


def limits_from_proto(limits: pb.TenantLimits) -> dict[str, int]:
    """Return the limits a request sets, by name (0 means: the plan's default)."""
    return {name: getattr(limits, name) for name in LIMIT_NAMES}


def tenant_to_proto(tenant: Tenant) -> pb.Tenant:
    """Return the API resource of a tenant, with the limits in force."""
    effective = PLAN_LIMITS[tenant.plan.value].with_overrides(tenant.limits)
    return pb.Tenant(
        name=f"tenants/{tenant.id}",
        id=tenant.id,
        display_name=tenant.display_name,
        plan=_PLAN_TO_PROTO[tenant.plan],
        state=_STATE_TO_PROTO[tenant.state],
        create_time=to_timestamp(tenant.create_time),
        update_time=to_timestamp(tenant.update_time),
        limits=pb.TenantLimits(**effective.as_dict()),
        deactivate_time=to_timestamp(tenant.deactivate_time),
    )


def health_to_proto(tenant_id: str, health: Health) -> pb.TenantHealth:
    """Return the API message of a health report."""
    return pb.TenantHealth(
        name=f"tenants/{tenant_id}/health",
        status=_HEALTH[health.status],
        schema_name=health.schema_name,
        schema_size_bytes=health.schema_size_bytes,
        tables=[pb.TableStats(table_name=t.table_name, row_count=t.row_count,
                              size_bytes=t.size_bytes) for t in health.tables],
        active_connections=health.active_connections,
        slow_queries=[pb.SlowQuery(query=q.query, calls=q.calls,
                                   mean_duration=_duration(q.mean_ms),
                                   max_duration=_duration(q.max_ms))
                      for q in health.slow_queries],
        last_backup_time=to_timestamp(health.last_backup_time),
        last_backup=health.last_backup,
    )


def _duration(milliseconds: float) -> Duration:
    duration = Duration()
    duration.FromNanoseconds(int(milliseconds * 1_000_000))
    return duration


def backup_to_proto(backup: BackupRecord) -> pb.Backup:
    """Return the API resource of a backup."""
    return pb.Backup(
        name=backup.name, id=backup.id, tenant_id=backup.tenant_id,
        state=_BACKUP_STATES.get(backup.state, pb.BACKUP_STATE_UNSPECIFIED),
        description=backup.description, size_bytes=backup.size_bytes,
        row_count=backup.row_count, storage_uri=backup.storage_uri, sha256=backup.sha256,
        create_time=to_timestamp(backup.create_time),
        complete_time=to_timestamp(backup.complete_time))
