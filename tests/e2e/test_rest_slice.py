"""Each service answers REST calls through the edge and the mTLS sidecars, from its store."""

from __future__ import annotations

import uuid

import httpx

from mesh.supervisor import Mesh
from tests.support.accounts import User, create_tenant, signed_in_user, with_roles


async def test_tenant_is_created_and_read_back_by_its_users(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    reply = await edge.post("/api/v1/tenants", json={
        "tenant": {"displayName": "Acme Brokers", "plan": "TENANT_PLAN_PROFESSIONAL"}})
    assert reply.status_code == 200, reply.text
    tenant = reply.json()["tenant"]
    assert tenant["name"] == f"tenants/{tenant['id']}"
    assert tenant["state"] == "TENANT_STATE_ACTIVE"
    assert reply.headers.get("x-request-id")

    member = await signed_in_user(edge, mesh.database_url, tenant["id"])
    fetched = await edge.get(f"/api/v1/tenants/{tenant['id']}", headers=member.headers)
    assert fetched.status_code == 200
    assert fetched.json()["tenant"]["displayName"] == "Acme Brokers"


async def test_other_tenants_are_invisible(api: httpx.AsyncClient,
                                           edge: httpx.AsyncClient) -> None:
    other = await create_tenant(edge, name="Rival Capital")
    reply = await api.get(f"/api/v1/tenants/{other}")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "TENANT_NOT_FOUND"


async def test_listing_all_tenants_needs_the_platform_admin_role(
        api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/tenants")
    assert reply.status_code == 403
    assert reply.json()["error"]["details"] == {"permission": "platform.tenants"}


async def test_platform_admin_pages_through_every_tenant_once(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    operator = await with_roles(edge, mesh.database_url,
                                await signed_in_user(edge, mesh.database_url), "platform-admin")
    created = {await create_tenant(edge, name=f"Paged {i}") for i in range(5)}
    seen: list[str] = []
    token = ""
    while True:
        reply = await edge.get("/api/v1/tenants", headers=operator.headers,
                               params={"pageSize": 2, "pageToken": token})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert len(body["tenants"]) <= 2
        seen += [t["id"] for t in body["tenants"]]
        token = body["nextPageToken"]
        if not token:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))


async def test_create_tenant_with_same_request_id_returns_the_first(
        edge: httpx.AsyncClient) -> None:
    body = {"tenant": {"displayName": "Once", "plan": "TENANT_PLAN_BASIC"},
            "requestId": str(uuid.uuid4())}
    first = (await edge.post("/api/v1/tenants", json=body)).json()["tenant"]
    second = (await edge.post("/api/v1/tenants", json=body)).json()["tenant"]
    assert first["id"] == second["id"]


async def test_user_profile_comes_from_the_user_service(api: httpx.AsyncClient,
                                                        user: User) -> None:
    reply = await api.get(f"/api/v1/users/{user.user_id}")
    assert reply.status_code == 200, reply.text
    profile = reply.json()["user"]
    assert profile["email"] == user.email
    assert profile["tenantId"] == user.tenant_id
    assert profile["emailVerified"] is True


async def test_users_of_other_tenants_are_invisible(api: httpx.AsyncClient,
                                                    edge: httpx.AsyncClient,
                                                    mesh: Mesh) -> None:
    stranger = await signed_in_user(edge, mesh.database_url)
    reply = await api.get(f"/api/v1/users/{stranger.user_id}")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "USER_NOT_FOUND"


async def test_instruments_are_listed_from_the_catalogue(api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/market/instruments")
    assert reply.status_code == 200
    symbols = [i["symbol"] for i in reply.json()["instruments"]]
    assert {"AAPL", "MSFT", "BTC-USD"} <= set(symbols)
    assert symbols == sorted(symbols)


async def test_latest_quote_comes_from_the_feed(api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/market/quotes/msft")
    assert reply.status_code == 200, reply.text
    quote = reply.json()["quote"]
    assert quote["symbol"] == "MSFT"
    assert float(quote["bid"]) < float(quote["ask"])
    assert int(quote["sequence"]) >= 1


async def test_order_preview_prices_from_the_market_service(api: httpx.AsyncClient) -> None:
    # trading -> market through the sidecars, fees from trading's own tables.
    reply = await api.post("/api/v1/orders:preview", json={
        "symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "10",
        "orderType": "ORDER_TYPE_LIMIT", "limitPrice": "150.00"})
    assert reply.status_code == 200, reply.text
    preview = reply.json()
    assert preview["estimatedPrice"] == "150.00"
    assert preview["estimatedNotional"] == "1500.00"
    assert preview["estimatedFee"] == "0.75"  # the tenant's professional plan: 5 bps
    assert preview["currencyCode"] == "USD"
    assert preview["quoteTime"]


async def test_order_preview_of_an_unknown_symbol_is_a_bad_request(
        api: httpx.AsyncClient) -> None:
    reply = await api.post("/api/v1/orders:preview", json={
        "symbol": "NOPE", "side": "ORDER_SIDE_BUY", "quantity": "1",
        "orderType": "ORDER_TYPE_MARKET"})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "UNKNOWN_SYMBOL"
    assert error["details"]["symbol"] == "NOPE"


async def test_openapi_document_is_served_without_a_token(edge: httpx.AsyncClient) -> None:
    reply = await edge.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    document = reply.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/tenants" in document["paths"]
    assert "/api/v1/market/stream" in document["paths"]
