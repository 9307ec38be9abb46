"""TenantService: thin async adapters from RPCs to the tenant store, health and backups."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import grpc
from redis.asyncio import Redis
from tradesage.auth.v1 import auth_service_pb2 as auth_api
from tradesage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tradesage.tenant.v1 import tenant_resources_pb2 as tenant_pb
from tradesage.tenant.v1 import tenant_service_pb2 as api
from tradesage.tenant.v1 import tenant_service_pb2_grpc as api_grpc

# The first admin's password is hashed exactly as auth hashes every password.
from services.auth.domain import passwords
from services.auth.domain.registration import email_violations, password_violations
from services.runtime import pagination
from services.runtime.errors import FailedPrecondition, require
from services.runtime.identity import require_identity
from services.runtime.peers import Peers, call_metadata
from services.runtime.plans import TenantLimits
from services.runtime.sessions import deactivated_tenant_key
from services.runtime.timestamps import to_timestamp
from services.tenant.backup import BackupService
from services.tenant.converters import (
    backup_to_proto,
    health_to_proto,
    limits_from_proto,
    plan_from_proto,
    tenant_to_proto,
)
from services.tenant.domain.access import (
    may_see_tenant,
    require_platform_admin,
)
from services.tenant.domain.changes import check_may_change, tenant_changes
from services.tenant.domain.tenant import (
    State,
    new_tenant,
    parse_backup_name,
    parse_tenant_name,
    tenant_not_found,
)
from services.tenant.health import tenant_health
from services.tenant.store import FirstAdmin, TenantStore

log = logging.getLogger("tradesage.tenant")


class TenantServicer(api_grpc.TenantServiceServicer):
    """Serve tenants, their health and their backups."""

    def __init__(self, store: TenantStore, limits: TenantLimits, redis: Redis,
                 peers: Peers, backups: BackupService) -> None:
        self._store = store
        self._backups = backups
        self._limits = limits
        self._redis = redis
        self._auth = auth_grpc.AuthServiceStub(peers.channel("auth"))

    async def CreateTenant(self, request: api.CreateTenantRequest,
                           context: grpc.aio.ServicerContext) -> api.CreateTenantResponse:
        new = new_tenant(request.tenant.display_name, plan_from_proto(request.tenant.plan),
                         request.request_id)
        admin = await _first_admin(request.admin_email, request.admin_password)
        tenant, admin_id, created = await self._store.create(new, admin)
        if created and admin is not None:
            await self._send_verification(tenant.id, admin.email)
        return api.CreateTenantResponse(tenant=tenant_to_proto(tenant), admin_user_id=admin_id)

    async def GetTenant(self, request: api.GetTenantRequest,
                        context: grpc.aio.ServicerContext) -> api.GetTenantResponse:
        tenant_id = self._visible(parse_tenant_name(request.name))
        return api.GetTenantResponse(tenant=tenant_to_proto(await self._store.get(tenant_id)))

    async def ListTenants(self, request: api.ListTenantsRequest,
                          context: grpc.aio.ServicerContext) -> api.ListTenantsResponse:
        limit = pagination.page_size(request.page_size)
        cursor = pagination.decode_token(request.page_token)
        after = (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None
        # One extra row tells whether another page exists without a COUNT.
        tenants = await self._store.list(limit + 1, after, request.show_deactivated,
                                         plan_from_proto(request.plan))
        page, more = tenants[:limit], len(tenants) > limit
        token = pagination.encode_token(
            {"t": page[-1].create_time.isoformat(), "id": page[-1].id}) if more else ""
        return api.ListTenantsResponse(
            tenants=[tenant_to_proto(t) for t in page], next_page_token=token)

    async def UpdateTenant(self, request: api.UpdateTenantRequest,
                           context: grpc.aio.ServicerContext) -> api.UpdateTenantResponse:
        tenant_id = self._visible(parse_tenant_name(request.tenant.name))
        changes = tenant_changes(list(request.update_mask.paths), request.tenant.display_name,
                                 plan_from_proto(request.tenant.plan),
                                 limits_from_proto(request.tenant.limits))
        check_may_change(require_identity(), tenant_id, changes)
        tenant = await self._store.update(tenant_id, changes)
        return api.UpdateTenantResponse(tenant=tenant_to_proto(tenant))

    async def DeleteTenant(self, request: api.DeleteTenantRequest,
                           context: grpc.aio.ServicerContext) -> api.DeleteTenantResponse:
        tenant_id = self._visible(parse_tenant_name(request.name))
        tenant = await self._store.set_state(tenant_id, State.DEACTIVATED)
        # From the next call on, every service refuses this tenant's tokens.
        await self._redis.set(deactivated_tenant_key(tenant_id), "1")
        return api.DeleteTenantResponse(tenant=tenant_to_proto(tenant))

    async def ReactivateTenant(self, request: api.ReactivateTenantRequest,
                               context: grpc.aio.ServicerContext) -> api.ReactivateTenantResponse:
        tenant_id = parse_tenant_name(request.name)
        if (await self._store.get(tenant_id)).state is State.ACTIVE:
            raise FailedPrecondition("the tenant is active", reason="TENANT_ALREADY_ACTIVE",
                                     metadata={"tenantId": tenant_id})
        tenant = await self._store.set_state(tenant_id, State.ACTIVE)
        await self._redis.delete(deactivated_tenant_key(tenant_id))
        return api.ReactivateTenantResponse(tenant=tenant_to_proto(tenant))

    async def GetTenantHealth(self, request: api.GetTenantHealthRequest,
                              context: grpc.aio.ServicerContext) -> api.GetTenantHealthResponse:
        tenant_id = self._visible(parse_tenant_name(request.name.removesuffix("/health")))
        tenant = await self._store.get(tenant_id)
        health = await tenant_health(self._store.pool, tenant.id,
                                     await self._limits.of(tenant.id))
        report = health_to_proto(tenant.id, health)
        report.check_time.CopyFrom(to_timestamp(datetime.now(UTC)))
        return api.GetTenantHealthResponse(health=report)

    async def CreateBackup(self, request: api.CreateBackupRequest,
                           context: grpc.aio.ServicerContext) -> api.CreateBackupResponse:
        tenant_id = self._visible(parse_tenant_name(request.parent))
        backup = await self._backups.create(tenant_id, description=request.description,
                                            request_id=request.request_id or None)
        return api.CreateBackupResponse(backup=backup_to_proto(backup))

    async def ListBackups(self, request: api.ListBackupsRequest,
                          context: grpc.aio.ServicerContext) -> api.ListBackupsResponse:
        tenant_id = self._visible(parse_tenant_name(request.parent))
        backups, token = await self._backups.list(tenant_id, page_size=request.page_size,
                                                  page_token=request.page_token)
        return api.ListBackupsResponse(backups=[backup_to_proto(b) for b in backups],
                                       next_page_token=token)

    async def GetBackup(self, request: api.GetBackupRequest,
                        context: grpc.aio.ServicerContext) -> api.GetBackupResponse:
        tenant_id, backup_id = parse_backup_name(request.name)
        self._visible(tenant_id)
        return api.GetBackupResponse(
            backup=backup_to_proto(await self._backups.get(tenant_id, backup_id)))

    async def RestoreBackup(self, request: api.RestoreBackupRequest,
                            context: grpc.aio.ServicerContext) -> api.RestoreBackupResponse:
        tenant_id, backup_id = parse_backup_name(request.name)
        self._visible(tenant_id)
        if request.target == tenant_pb.RESTORE_TARGET_NEW_TENANT:
            require_platform_admin(require_identity())  # it creates a tenant
            source = await self._store.get(tenant_id)
            name = request.new_tenant_display_name or f"{source.display_name} (restored)"
            result = await self._backups.restore(
                tenant_id, backup_id, target_tenant_id=str(uuid.uuid4()),
                prepare=lambda connection: self._store.create_in(connection, name, source.plan))
        else:
            result = await self._backups.restore(tenant_id, backup_id)
        tenant = await self._store.get(result.tenant_id)
        return api.RestoreBackupResponse(tenant=tenant_to_proto(tenant),
                                         restored_row_count=result.restored_rows)

    def _visible(self, tenant_id: str) -> str:
        if not may_see_tenant(require_identity(), tenant_id):
            raise tenant_not_found(tenant_id)  # other tenants are invisible, not forbidden
        return tenant_id

    async def _send_verification(self, tenant_id: str, email: str) -> None:
        try:
            await self._auth.ResendVerificationEmail(
                auth_api.ResendVerificationEmailRequest(tenant_id=tenant_id, email=email),
                metadata=call_metadata(), timeout=5.0)
        except grpc.aio.AioRpcError as error:  # the admin can ask for the mail again
            log.warning("verification mail not queued", extra={"error": error.code().name})


async def _first_admin(email: str, password: str) -> FirstAdmin | None:
    if not email and not password:
        return None
    email = email.strip()
    require([*email_violations(email, "admin_email"),
              *password_violations(password, email, "admin_password")],
             "the first admin has invalid fields")
    return FirstAdmin(email, await asyncio.to_thread(passwords.hash_password, password))

