"""Wiring of the tenant service."""

from __future__ import annotations

from pathlib import Path

from tradesage.tenant.v1 import tenant_service_pb2, tenant_service_pb2_grpc

from services.runtime.plans import TenantLimits
from services.runtime.server import Mounted, Resources, ServiceSpec
from services.runtime.sessions import deactivated_tenant_key
from services.tenant.backup import BackupService, BackupSettings
from services.tenant.provisioning import migrate_tenants, provision
from services.tenant.servicer import TenantServicer
from services.tenant.store import TenantStore


async def build(resources: Resources) -> Mounted:
    """Create the servicer over the platform database, Valkey and the auth peer."""
    store = TenantStore(resources.db, provision)
    # Deactivation marks live in Valkey, which may have lost them: rebuild them from the truth.
    for tenant_id in await store.deactivated_ids():
        await resources.cache.set(deactivated_tenant_key(tenant_id), "1")
    backups = BackupService(resources.db, resources.config.database_url,
                            BackupSettings.from_env())
    servicer = TenantServicer(store, TenantLimits(resources.db), resources.cache,
                              resources.peers, backups)
    return Mounted(
        servicers=[(tenant_service_pb2_grpc.add_TenantServiceServicer_to_server, servicer)],
        service_names=[tenant_service_pb2.DESCRIPTOR.services_by_name["TenantService"].full_name],
        # Existing tenants' schemas are brought to the latest version once, after start-up.
        background=[backups.run_schedule, lambda: migrate_tenants(resources.db)],
        cleanup=[backups.close],
    )


SPEC = ServiceSpec(
    name="tenant", build=build, needs_database=True, needs_redis=True,
    migrations=Path(__file__).with_name("migrations"))
