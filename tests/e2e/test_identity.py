"""Identity through the REST edge: sign-up, sign-in, tokens, revocation, lockout, MFA, reset."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mesh.supervisor import Mesh
from tests.support import tokens
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
from tests.support.oidc_provider import LoopbackOidcProvider


async def me(edge: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await edge.get("/api/v1/auth/me", headers={"authorization": f"Bearer {access_token}"})


# --- sign-up and sign-in -------------------------------------------------------------------

async def test_signed_in_user_is_who_the_token_says(edge: httpx.AsyncClient, user: User) -> None:
    reply = await me(edge, user.access_token)
    assert reply.status_code == 200, reply.text
    principal = reply.json()["principal"]
    assert principal["userId"] == user.user_id
    assert principal["tenantId"] == user.tenant_id
    assert principal["sessionId"] == user.session_id
    assert principal["emailVerified"] is True


async def test_login_before_email_verification_is_refused(edge: httpx.AsyncClient,
                                                          mesh: Mesh) -> None:
    tenant_id = await create_tenant(edge)
    _, email = await register(edge, mesh.database_url, tenant_id, verify=False)
    reply = await login(edge, tenant_id, email)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "EMAIL_NOT_VERIFIED"


async def test_verification_token_works_once(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    tenant_id = await create_tenant(edge)
    _, email = await register(edge, mesh.database_url, tenant_id, verify=False)
    token = await latest_mail_token(mesh.database_url, email, "email_verification")
    body = {"tenantId": tenant_id, "token": token}
    assert (await edge.post("/api/v1/auth/verify-email", json=body)).status_code == 200
    again = await edge.post("/api/v1/auth/verify-email", json=body)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "INVALID_TOKEN"


async def test_jwks_publishes_the_signing_key(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    kid, _ = await tokens.real_signing_key(mesh)
    keys = (await edge.get("/.well-known/jwks.json")).json()["keys"]
    assert any(k["kid"] == kid and k["alg"] == "EdDSA" and k["kty"] == "OKP" for k in keys)


async def test_password_is_never_returned_or_logged(edge: httpx.AsyncClient, mesh: Mesh,
                                                    user: User) -> None:
    for reply in (await login(edge, user.tenant_id, user.email),
                  await login(edge, user.tenant_id, user.email, "wrong horse 9 battery")):
        assert PASSWORD not in reply.text
    await asyncio.sleep(0.5)  # let log lines reach their files
    for log_file in (mesh.data_dir / "logs").glob("*.log"):
        text = log_file.read_text(errors="replace")
        assert PASSWORD not in text, log_file
        assert user.refresh_token not in text, log_file


# --- tokens the edge must refuse -----------------------------------------------------------

@pytest.mark.parametrize("forgery", ["expired", "tampered", "alg-none", "unknown-kid",
                                     "wrong-issuer", "wrong-audience", "garbage"])
async def test_forged_tokens_are_refused(edge: httpx.AsyncClient, mesh: Mesh, user: User,
                                         forgery: str) -> None:
    kid, key = await tokens.real_signing_key(mesh)
    base = tokens.claims(user.user_id, user.tenant_id, user.session_id)
    token = {
        "expired": lambda: tokens.sign(
            tokens.claims(user.user_id, user.tenant_id, user.session_id, ttl=60,
                          issued=0), kid, key),
        "tampered": lambda: tokens.tampered(user.access_token, roles="owner,platform-admin"),
        "alg-none": lambda: tokens.unsigned(base, kid),
        "unknown-kid": lambda: tokens.sign(base, "not-our-key", Ed25519PrivateKey.generate()),
        "wrong-issuer": lambda: tokens.sign({**base, "iss": "https://evil.example"}, kid, key),
        "wrong-audience": lambda: tokens.sign({**base, "aud": "someone-else"}, kid, key),
        "garbage": lambda: "not.a.jwt",
    }[forgery]()
    reply = await me(edge, token)
    # Envoy answers a valid token meant for another audience with 403, the rest with 401.
    expected = 403 if forgery == "wrong-audience" else 401
    assert reply.status_code == expected, reply.text
    assert reply.json()["error"]["code"] in ("UNAUTHENTICATED", "PERMISSION_DENIED")


async def test_token_naming_another_tenant_sees_nothing_there(
        edge: httpx.AsyncClient, mesh: Mesh, user: User) -> None:
    # Even a correctly signed token whose tenant does not match the user gets nothing.
    kid, key = await tokens.real_signing_key(mesh)
    other_tenant = await create_tenant(edge, name="Elsewhere")
    token = tokens.sign(tokens.claims(user.user_id, other_tenant, user.session_id), kid, key)
    headers = {"authorization": f"Bearer {token}"}
    assert (await edge.get(f"/api/v1/users/{user.user_id}", headers=headers)).status_code == 404
    assert (await me(edge, token)).status_code == 404


# --- refresh, logout, revocation -------------------------------------------------------------

async def test_refresh_rotates_the_refresh_token(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    user = await signed_in_user(edge, mesh.database_url)
    first = await edge.post("/api/v1/auth/refresh", json={"refreshToken": user.refresh_token})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refreshToken"] != user.refresh_token
    assert rotated["sessionId"] == user.session_id
    assert (await me(edge, rotated["accessToken"])).status_code == 200
    second = await edge.post("/api/v1/auth/refresh",
                             json={"refreshToken": rotated["refreshToken"]})
    assert second.status_code == 200


async def test_refresh_token_reuse_revokes_the_whole_family(edge: httpx.AsyncClient,
                                                            mesh: Mesh) -> None:
    user = await signed_in_user(edge, mesh.database_url)
    rotated = (await edge.post("/api/v1/auth/refresh",
                               json={"refreshToken": user.refresh_token})).json()
    reused = await edge.post("/api/v1/auth/refresh", json={"refreshToken": user.refresh_token})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "REFRESH_TOKEN_REUSED"
    # The thief's and the owner's tokens of that family are all dead now.
    successor = await edge.post("/api/v1/auth/refresh",
                                json={"refreshToken": rotated["refreshToken"]})
    assert successor.status_code == 401
    assert (await me(edge, rotated["accessToken"])).status_code == 401
    assert (await me(edge, user.access_token)).status_code == 401


async def test_logout_revokes_the_access_token_at_once(edge: httpx.AsyncClient,
                                                       mesh: Mesh) -> None:
    user = await signed_in_user(edge, mesh.database_url)
    assert (await me(edge, user.access_token)).status_code == 200
    out = await edge.post("/api/v1/auth/logout", headers=user.headers, json={})
    assert out.status_code == 200, out.text
    refused = await me(edge, user.access_token)  # well within 1 s of the logout
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "SESSION_REVOKED"
    refresh = await edge.post("/api/v1/auth/refresh", json={"refreshToken": user.refresh_token})
    assert refresh.status_code == 401


async def test_revoked_token_is_refused_by_every_service(edge: httpx.AsyncClient,
                                                         mesh: Mesh) -> None:
    user = await signed_in_user(edge, mesh.database_url)
    await edge.post("/api/v1/auth/logout", headers=user.headers, json={})
    for path in ("/api/v1/market/quotes/AAPL", f"/api/v1/users/{user.user_id}",
                 f"/api/v1/tenants/{user.tenant_id}", "/api/v1/sessions"):
        assert (await edge.get(path, headers=user.headers)).status_code == 401, path


# --- brute force -------------------------------------------------------------------------------

async def test_five_wrong_passwords_lock_the_account_with_a_retry_time(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    tenant_id = await create_tenant(edge)
    user_id, email = await register(edge, mesh.database_url, tenant_id)
    replies = [await login(edge, tenant_id, email, "wrong horse 9 battery") for _ in range(5)]
    assert [r.status_code for r in replies[:4]] == [401] * 4
    locked = replies[4]
    assert locked.status_code == 429
    error = locked.json()["error"]
    assert error["code"] == "ACCOUNT_LOCKED"
    assert 0 < int(error["details"]["retryAfterSeconds"]) <= 900
    # The right password does not open a locked account.
    still = await login(edge, tenant_id, email)
    assert still.status_code == 429
    assert still.json()["error"]["code"] == "ACCOUNT_LOCKED"

    admin = await with_roles(edge, mesh.database_url,
                             await signed_in_user(edge, mesh.database_url, tenant_id), "admin")
    unlock = await edge.post(f"/api/v1/auth/accounts/{user_id}:unlock", json={},
                             headers=admin.headers)
    assert unlock.status_code == 200, unlock.text
    assert unlock.json()["wasLocked"] is True
    assert (await login(edge, tenant_id, email)).status_code == 200


async def test_unlock_needs_the_admin_role(edge: httpx.AsyncClient, user: User) -> None:
    reply = await edge.post(f"/api/v1/auth/accounts/{user.user_id}:unlock", json={},
                            headers=user.headers)
    assert reply.status_code == 403
    assert reply.json()["error"]["details"]["permission"] == "users.manage"


async def test_login_attempts_are_audited_with_address_and_agent(
        edge: httpx.AsyncClient, mesh: Mesh, user: User) -> None:
    await edge.post("/api/v1/auth/login", headers={"user-agent": "audit-probe/1"}, json={
        "tenantId": user.tenant_id, "email": user.email, "password": "nope nope 99"})
    connection = await asyncpg.connect(mesh.database_url)
    try:
        row = await connection.fetchrow(
            """SELECT ip_address, user_agent, success, reason FROM auth.login_attempts
               WHERE user_id = $1 ORDER BY id DESC LIMIT 1""", uuid.UUID(user.user_id))
    finally:
        await connection.close()
    assert dict(row) == {"ip_address": "127.0.0.1", "user_agent": "audit-probe/1",
                         "success": False, "reason": "INVALID_CREDENTIALS"}


# --- sessions per plan -------------------------------------------------------------------------

async def test_basic_plan_keeps_three_sessions_and_evicts_the_oldest(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    tenant_id = await create_tenant(edge, plan="TENANT_PLAN_BASIC")
    _, email = await register(edge, mesh.database_url, tenant_id)
    logins = [(await login(edge, tenant_id, email)).json() for _ in range(4)]
    assert all("accessToken" in body for body in logins), logins
    assert (await me(edge, logins[0]["accessToken"])).status_code == 401  # evicted
    for body in logins[1:]:
        assert (await me(edge, body["accessToken"])).status_code == 200


# --- password reset ----------------------------------------------------------------------------

async def test_password_reset_revokes_every_session(edge: httpx.AsyncClient,
                                                    mesh: Mesh) -> None:
    user = await signed_in_user(edge, mesh.database_url)
    second = (await login(edge, user.tenant_id, user.email)).json()
    asked = await edge.post("/api/v1/auth/reset-password",
                            json={"tenantId": user.tenant_id, "email": user.email})
    assert asked.status_code == 200
    token = await latest_mail_token(mesh.database_url, user.email, "password_reset")
    new_password = "a brand new horse 42"
    confirmed = await edge.post("/api/v1/auth/reset-password/confirm", json={
        "tenantId": user.tenant_id, "token": token, "newPassword": new_password})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["revokedSessionCount"] >= 2
    for access_token in (user.access_token, second["accessToken"]):
        assert (await me(edge, access_token)).status_code == 401
    assert (await login(edge, user.tenant_id, user.email)).status_code == 401
    assert (await login(edge, user.tenant_id, user.email, new_password)).status_code == 200


async def test_reset_request_for_unknown_email_looks_the_same(edge: httpx.AsyncClient,
                                                              user: User) -> None:
    reply = await edge.post("/api/v1/auth/reset-password",
                            json={"tenantId": user.tenant_id, "email": "nobody@acme.example"})
    assert reply.status_code == 200


# --- second factor -------------------------------------------------------------------------------

async def test_totp_enrolment_and_login_with_code_or_recovery_code(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    user = await signed_in_user(edge, mesh.database_url)
    enrolled = await edge.post("/api/v1/auth/mfa/enroll", headers=user.headers,
                               json={"password": PASSWORD})
    assert enrolled.status_code == 200, enrolled.text
    totp = pyotp.TOTP(enrolled.json()["secret"])
    confirmed = await edge.post("/api/v1/auth/mfa/confirm", headers=user.headers,
                                json={"totpCode": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    recovery_codes = confirmed.json()["recoveryCodes"]
    assert len(recovery_codes) == 10

    missing = await login(edge, user.tenant_id, user.email)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "MFA_REQUIRED"
    wrong = await login(edge, user.tenant_id, user.email, totpCode="000000")
    assert wrong.json()["error"]["code"] == "INVALID_MFA_CODE"
    with_recovery = await login(edge, user.tenant_id, user.email,
                                recoveryCode=recovery_codes[0])
    assert with_recovery.status_code == 200, with_recovery.text
    reused = await login(edge, user.tenant_id, user.email, recoveryCode=recovery_codes[0])
    assert reused.json()["error"]["code"] == "INVALID_MFA_CODE"


# --- OpenID Connect ------------------------------------------------------------------------------

async def test_oidc_login_creates_then_reuses_the_linked_user(
        edge: httpx.AsyncClient, oidc_provider: LoopbackOidcProvider) -> None:
    tenant_id = await create_tenant(edge, name="Federated Inc")

    async def sign_in() -> dict:
        started = await edge.post("/api/v1/auth/oidc/start",
                                  json={"tenantId": tenant_id, "provider": "test"})
        assert started.status_code == 200, started.text
        url = started.json()["authorizationUrl"]
        assert "code_challenge_method=S256" in url
        code, state = await oidc_provider.approve(url)
        completed = await edge.post("/api/v1/auth/oidc/complete",
                                    json={"state": state, "code": code})
        assert completed.status_code == 200, completed.text
        return completed.json()

    first, second = await sign_in(), await sign_in()
    assert first["userCreated"] is True
    assert second["userCreated"] is False
    assert first["userId"] == second["userId"]
    principal = (await me(edge, second["accessToken"])).json()["principal"]
    assert principal["email"] == oidc_provider.user.email
    assert principal["tenantId"] == tenant_id


async def test_oidc_state_is_single_use(edge: httpx.AsyncClient,
                                        oidc_provider: LoopbackOidcProvider) -> None:
    tenant_id = await create_tenant(edge, name="Federated Once")
    started = (await edge.post("/api/v1/auth/oidc/start",
                               json={"tenantId": tenant_id, "provider": "test"})).json()
    code, state = await oidc_provider.approve(started["authorizationUrl"])
    body = {"state": state, "code": code}
    assert (await edge.post("/api/v1/auth/oidc/complete", json=body)).status_code == 200
    replay = await edge.post("/api/v1/auth/oidc/complete", json=body)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "INVALID_OIDC_STATE"


async def test_unknown_oidc_provider_is_not_found(edge: httpx.AsyncClient, user: User) -> None:
    reply = await edge.post("/api/v1/auth/oidc/start",
                            json={"tenantId": user.tenant_id, "provider": "nope"})
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "OIDC_PROVIDER_NOT_FOUND"


# --- the outbox of the embedded default ----------------------------------------------------------

async def test_tenant_admin_lists_the_outbox_of_their_tenant_only(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    tenant_id = await create_tenant(edge, name="Mailroom")
    _, newcomer = await register(edge, mesh.database_url, tenant_id, verify=False)
    await signed_in_user(edge, mesh.database_url)  # mail in another tenant
    plain = await signed_in_user(edge, mesh.database_url, tenant_id)
    admin = await with_roles(edge, mesh.database_url, plain, "admin")
    reply = await edge.get("/api/v1/auth/outbox", headers=admin.headers)
    assert reply.status_code == 200, reply.text
    mails = reply.json()["mails"]
    assert {m["tenantId"] for m in mails} == {tenant_id}
    assert newcomer in {m["to"] for m in mails}
    denied = await signed_in_user(edge, mesh.database_url, tenant_id)
    assert (await edge.get("/api/v1/auth/outbox", headers=denied.headers)).status_code == 403
