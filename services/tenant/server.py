"""Wiring of the tenant service."""

from __future__ import annotations

from tradesage.tenant.v1 import tenant_service_pb2, tenant_service_pb2_grpc

from services.runtime.server import Mounted, Resources, ServiceSpec
from services.tenant.servicer import TenantServicer
from services.tenant.store import TenantStore


async def build(resources: Resources) -> Mounted:
    """Create the servicer over the platform database."""
    return Mounted(
        servicers=[(tenant_service_pb2_grpc.add_TenantServiceServicer_to_server,
                    TenantServicer(TenantStore(resources.db)))],
        service_names=[tenant_service_pb2.DESCRIPTOR.services_by_name["TenantService"].full_name],
    )


SPEC = ServiceSpec(name="tenant", build=build, needs_database=True, needs_redis=True)
