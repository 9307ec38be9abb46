"""TenantService: thin async adapters from RPCs to the tenant store and domain."""

from __future__ import annotations

from datetime import datetime

import grpc
from tradesage.tenant.v1 import tenant_service_pb2 as api
from tradesage.tenant.v1 import tenant_service_pb2_grpc as api_grpc

from services.runtime import pagination
from services.runtime.identity import require_identity
from services.tenant.converters import plan_from_proto, tenant_to_proto
from services.tenant.domain.access import may_see_tenant, require_platform_admin
from services.tenant.domain.tenant import new_tenant, parse_tenant_name, tenant_not_found
from services.tenant.store import TenantStore


class TenantServicer(api_grpc.TenantServiceServicer):
    """Serve tenants; methods not overridden here answer UNIMPLEMENTED."""

    def __init__(self, store: TenantStore) -> None:
        self._store = store

    async def CreateTenant(self, request: api.CreateTenantRequest,
                           context: grpc.aio.ServicerContext) -> api.CreateTenantResponse:
        new = new_tenant(request.tenant.display_name, plan_from_proto(request.tenant.plan),
                         request.request_id)
        tenant = await self._store.create(new)
        return api.CreateTenantResponse(tenant=tenant_to_proto(tenant))

    async def GetTenant(self, request: api.GetTenantRequest,
                        context: grpc.aio.ServicerContext) -> api.GetTenantResponse:
        tenant_id = parse_tenant_name(request.name)
        if not may_see_tenant(require_identity(), tenant_id):
            raise tenant_not_found(tenant_id)  # other tenants are invisible, not forbidden
        tenant = await self._store.get(tenant_id)
        return api.GetTenantResponse(tenant=tenant_to_proto(tenant))

    async def ListTenants(self, request: api.ListTenantsRequest,
                          context: grpc.aio.ServicerContext) -> api.ListTenantsResponse:
        require_platform_admin(require_identity())
        limit = pagination.page_size(request.page_size)
        cursor = pagination.decode_token(request.page_token)
        after = (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None
        # One extra row tells whether another page exists without a COUNT.
        tenants = await self._store.list(limit + 1, after)
        page, more = tenants[:limit], len(tenants) > limit
        token = pagination.encode_token(
            {"t": page[-1].create_time.isoformat(), "id": page[-1].id}) if more else ""
        return api.ListTenantsResponse(
            tenants=[tenant_to_proto(t) for t in page], next_page_token=token)
