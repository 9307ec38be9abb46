"""Bad input gets a 4xx with the one JSON error shape, never a 5xx or a stack trace."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import User

BAD_REQUESTS = [
    pytest.param("POST", "/api/v1/tenants", '{"tenant":', 400, "INVALID_ARGUMENT",
                 id="malformed-json"),
    pytest.param("POST", "/api/v1/tenants", '{"tenant": {"displayName": 42, "plan": []}}', 400,
                 "INVALID_ARGUMENT", id="wrong-field-types"),
    pytest.param("POST", "/api/v1/tenants", '{"tenant": {"noSuchField": 1}}', 400,
                 "INVALID_ARGUMENT", id="unknown-field"),
    pytest.param("POST", "/api/v1/tenants", '{"tenant": {"plan": "TENANT_PLAN_GOLD"}}', 400,
                 "INVALID_ARGUMENT", id="unknown-enum-value"),
    pytest.param("POST", "/api/v1/tenants", '{"tenant": {"plan": "TENANT_PLAN_BASIC"}}', 400,
                 "INVALID_ARGUMENT", id="missing-required-field"),
    pytest.param("GET", "/api/v1/market/instruments?pageSize=abc", None, 400, "INVALID_ARGUMENT",
                 id="query-type"),
    pytest.param("GET", "/api/v1/market/instruments?pageSize=-1", None, 400, "INVALID_ARGUMENT",
                 id="negative-page-size"),
    pytest.param("GET", "/api/v1/market/instruments?pageToken=garbage", None, 400,
                 "INVALID_ARGUMENT", id="forged-page-token"),
    pytest.param("GET", "/api/v1/market/instruments?bogus=1", None, 400, "INVALID_ARGUMENT",
                 id="unknown-query-parameter"),
    pytest.param("GET", "/api/v1/no/such/route", None, 404, "NOT_FOUND", id="unknown-route"),
    pytest.param("GET", "/api/v1/tenants/not-a-uuid", None, 404, "TENANT_NOT_FOUND",
                 id="unknown-tenant"),
    pytest.param("POST", "/api/v1/orders:preview", '{"symbol": "AAPL", "quantity": "NaN"}', 400,
                 "INVALID_ARGUMENT", id="invalid-decimal"),
    pytest.param("GET", "/api/v1/market/stream?symbols=", None, 400, "INVALID_ARGUMENT",
                 id="stream-without-symbols"),
    pytest.param("GET", "/api/v1/sessions/0123", None, 404, "SESSION_NOT_FOUND",
                 id="unknown-session"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD_REQUESTS)
async def test_bad_request_gets_json_error(api: httpx.AsyncClient, method: str, path: str,
                                           body: str | None, status: int, code: str) -> None:
    reply = await api.request(method, path, content=body,
                               headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert "Traceback" not in reply.text


async def test_field_violations_name_each_bad_field(edge: httpx.AsyncClient) -> None:
    reply = await edge.post("/api/v1/auth/register", json={
        "tenantId": "x", "email": "not-an-email", "password": "short"})
    assert reply.status_code == 400
    violations = reply.json()["error"]["details"]["fieldViolations"]
    assert {v["field"] for v in violations} == {"tenant_id", "email", "password"}
    assert "short" not in reply.text  # the password is never echoed back


async def test_cors_preflight_is_answered(edge: httpx.AsyncClient) -> None:
    reply = await edge.options("/api/v1/tenants", headers={
        "origin": "https://app.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in reply.headers["access-control-allow-methods"]


async def test_client_cannot_forge_identity_headers(api: httpx.AsyncClient,
                                                    user: User) -> None:
    # Identity headers come only from the verified token; a client's own are dropped.
    forged = "00000000-0000-0000-0000-000000000001"
    reply = await api.get("/api/v1/auth/me", headers={
        "x-tradesage-user-id": forged, "x-tradesage-tenant-id": forged,
        "x-tradesage-roles": "owner,platform-admin"})
    assert reply.status_code == 200, reply.text
    principal = reply.json()["principal"]
    assert principal["userId"] == user.user_id
    assert "owner" not in principal["roles"]


async def test_calls_without_a_token_are_unauthenticated(edge: httpx.AsyncClient) -> None:
    reply = await edge.get("/api/v1/market/quotes/AAPL")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "UNAUTHENTICATED"
