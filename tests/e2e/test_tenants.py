"""Tenant lifecycle through the REST edge: sign-up with a first admin, updates, deactivation,
plan limits, health, and isolation between tenants."""

from __future__ import annotations

import uuid

import httpx

from mesh.supervisor import Mesh
from tests.support.accounts import (
    PASSWORD,
    User,
    create_tenant,
    latest_mail_token,
    login,
    register,
    signed_in_user,
    with_roles,
)


async def operator(edge: httpx.AsyncClient, mesh: Mesh) -> User:
    """Return a signed-in platform operator."""
    return await with_roles(edge, mesh.database_url,
                            await signed_in_user(edge, mesh.database_url), "platform-admin")


async def owner_of_new_tenant(edge: httpx.AsyncClient, mesh: Mesh,
                              plan: str = "TENANT_PLAN_BASIC") -> User:
    tenant_id = await create_tenant(edge, plan=plan)
    return await with_roles(edge, mesh.database_url,
                            await signed_in_user(edge, mesh.database_url, tenant_id), "owner")


async def test_sign_up_creates_tenant_and_its_owner(edge: httpx.AsyncClient,
                                                    mesh: Mesh) -> None:
    email = f"founder-{uuid.uuid4().hex[:8]}@newco.example"
    reply = await edge.post("/api/v1/tenants", json={
        "tenant": {"displayName": "NewCo", "plan": "TENANT_PLAN_PROFESSIONAL"},
        "adminEmail": email, "adminPassword": PASSWORD})
    assert reply.status_code == 200, reply.text
    tenant_id, admin_id = reply.json()["tenant"]["id"], reply.json()["adminUserId"]
    assert reply.json()["tenant"]["limits"]["maxUsers"] == 50  # the plan's defaults

    token = await latest_mail_token(mesh.database_url, email, "email_verification")
    verified = await edge.post("/api/v1/auth/verify-email",
                               json={"tenantId": tenant_id, "token": token})
    assert verified.json()["userId"] == admin_id
    signed_in = await login(edge, tenant_id, email)
    assert signed_in.status_code == 200, signed_in.text
    me = await edge.get("/api/v1/auth/me",
                        headers={"authorization": f"Bearer {signed_in.json()['accessToken']}"})
    assert me.json()["principal"]["roles"] == ["owner"]


async def test_sign_up_with_a_weak_admin_password_creates_nothing(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    name = f"Half-{uuid.uuid4().hex[:8]}"
    reply = await edge.post("/api/v1/tenants", json={
        "tenant": {"displayName": name, "plan": "TENANT_PLAN_BASIC"},
        "adminEmail": "x@y.example", "adminPassword": "short"})
    assert reply.status_code == 400
    fields = {v["field"] for v in reply.json()["error"]["details"]["fieldViolations"]}
    assert fields == {"admin_password"}
    admin = await operator(edge, mesh)
    listed = (await edge.get("/api/v1/tenants", headers=admin.headers,
                             params={"pageSize": 500, "showDeactivated": True})).json()
    assert name not in {t["displayName"] for t in listed["tenants"]}


async def test_tenant_admin_renames_but_cannot_change_the_plan(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    owner = await owner_of_new_tenant(edge, mesh)
    path = f"/api/v1/tenants/{owner.tenant_id}"
    renamed = await edge.put(path, headers=owner.headers, params={"updateMask": "display_name"},
                             json={"name": f"tenants/{owner.tenant_id}", "displayName": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["tenant"]["displayName"] == "Renamed"
    upgrade = await edge.put(path, headers=owner.headers, params={"updateMask": "plan"},
                             json={"name": f"tenants/{owner.tenant_id}",
                                   "plan": "TENANT_PLAN_ENTERPRISE"})
    assert upgrade.status_code == 403
    assert upgrade.json()["error"]["details"]["permission"] == "platform-admin"


async def test_unknown_update_path_is_refused(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    owner = await owner_of_new_tenant(edge, mesh)
    reply = await edge.put(f"/api/v1/tenants/{owner.tenant_id}", headers=owner.headers,
                           params={"updateMask": "create_time"},
                           json={"name": f"tenants/{owner.tenant_id}"})
    assert reply.status_code == 400
    assert reply.json()["error"]["details"]["fieldViolations"][0]["field"] == "update_mask"


async def test_user_limit_of_the_plan_is_enforced(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    admin = await operator(edge, mesh)
    tenant_id = await create_tenant(edge)
    updated = await edge.put(f"/api/v1/tenants/{tenant_id}", headers=admin.headers,
                             params={"updateMask": "limits.max_users"},
                             json={"name": f"tenants/{tenant_id}", "limits": {"maxUsers": 2}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["tenant"]["limits"]["maxUsers"] == 2
    await register(edge, mesh.database_url, tenant_id, verify=False)
    await register(edge, mesh.database_url, tenant_id, verify=False)
    third = await edge.post("/api/v1/auth/register", json={
        "tenantId": tenant_id, "email": "third@acme.example", "password": PASSWORD})
    assert third.status_code == 429
    error = third.json()["error"]
    assert error["code"] == "PLAN_LIMIT_EXCEEDED"
    assert error["details"] == {"limit": "max_users", "limitValue": "2", "inUse": "2"}


async def test_subscription_symbol_limit_is_enforced(edge: httpx.AsyncClient,
                                                     mesh: Mesh) -> None:
    admin = await operator(edge, mesh)
    user = await signed_in_user(edge, mesh.database_url)
    await edge.put(f"/api/v1/tenants/{user.tenant_id}", headers=admin.headers,
                   params={"updateMask": "limits.max_subscription_symbols"},
                   json={"name": f"tenants/{user.tenant_id}",
                         "limits": {"maxSubscriptionSymbols": 1}})
    reply = await edge.get("/api/v1/market/stream", headers=user.headers,
                           params={"symbols": ["AAPL", "MSFT"]})
    assert reply.status_code == 429
    assert reply.json()["error"]["details"]["limit"] == "max_subscription_symbols"


async def test_deactivated_tenant_is_refused_until_reactivated(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    owner = await owner_of_new_tenant(edge, mesh)
    member = await signed_in_user(edge, mesh.database_url, owner.tenant_id)
    gone = await edge.delete(f"/api/v1/tenants/{owner.tenant_id}", headers=owner.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["tenant"]["state"] == "TENANT_STATE_DEACTIVATED"
    refused = await edge.get("/api/v1/auth/me", headers=member.headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "TENANT_DEACTIVATED"
    assert (await login(edge, owner.tenant_id, member.email)).status_code == 400

    admin = await operator(edge, mesh)
    back = await edge.post(f"/api/v1/tenants/{owner.tenant_id}:reactivate",
                           headers=admin.headers, json={})
    assert back.status_code == 200, back.text
    assert (await login(edge, owner.tenant_id, member.email)).status_code == 200


async def test_only_the_owner_or_an_operator_deactivates(edge: httpx.AsyncClient,
                                                         mesh: Mesh) -> None:
    member = await signed_in_user(edge, mesh.database_url)
    reply = await edge.delete(f"/api/v1/tenants/{member.tenant_id}", headers=member.headers)
    assert reply.status_code == 403


async def test_other_tenants_cannot_be_read_changed_or_deactivated(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    owner, victim = await owner_of_new_tenant(edge, mesh), await create_tenant(edge)
    path = f"/api/v1/tenants/{victim}"
    for reply in (await edge.get(path, headers=owner.headers),
                  await edge.put(path, headers=owner.headers,
                                 params={"updateMask": "display_name"},
                                 json={"name": f"tenants/{victim}", "displayName": "Pwned"}),
                  await edge.delete(path, headers=owner.headers),
                  await edge.get(f"{path}/health", headers=owner.headers)):
        assert reply.status_code == 404, reply.text


async def test_health_reports_the_schema(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    owner = await owner_of_new_tenant(edge, mesh)
    reply = await edge.get(f"/api/v1/tenants/{owner.tenant_id}/health", headers=owner.headers)
    assert reply.status_code == 200, reply.text
    health = reply.json()["health"]
    assert health["status"] == "TENANT_HEALTH_STATUS_HEALTHY"
    assert health["schemaName"].startswith("tenant_")
    assert int(health["schemaSizeBytes"]) > 0
    assert {"orders", "portfolios"} <= {t["tableName"] for t in health["tables"]}


async def test_backup_and_restore_through_the_edge(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    owner = await owner_of_new_tenant(edge, mesh)
    parent = f"/api/v1/tenants/{owner.tenant_id}"
    made = await edge.post(f"{parent}/backup", headers=owner.headers,
                           json={"description": "before the change"})
    assert made.status_code == 200, made.text
    backup = made.json()["backup"]
    assert backup["state"] == "BACKUP_STATE_READY"
    assert len(backup["sha256"]) == 64
    listed = (await edge.get(f"{parent}/backups", headers=owner.headers)).json()["backups"]
    assert [b["id"] for b in listed] == [backup["id"]]
    health = (await edge.get(f"{parent}/health", headers=owner.headers)).json()["health"]
    assert health["lastBackup"] == backup["name"]

    restored = await edge.post(f"/api/v1/{backup['name']}:restore", headers=owner.headers,
                               json={"target": "RESTORE_TARGET_SAME_TENANT"})
    assert restored.status_code == 200, restored.text
    assert restored.json()["tenant"]["id"] == owner.tenant_id

    member = await signed_in_user(edge, mesh.database_url, owner.tenant_id)
    denied = await edge.post(f"{parent}/backup", headers=member.headers, json={})
    assert denied.status_code == 403
