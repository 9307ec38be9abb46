"""Each service answers REST calls through the edge and the mTLS sidecars, from its store."""

from __future__ import annotations

import uuid

import httpx

STRONG_PASSWORD = "correct horse 9 battery"


async def create_tenant(edge: httpx.AsyncClient, name: str = "Acme Brokers") -> dict:
    reply = await edge.post("/api/v1/tenants", json={
        "tenant": {"displayName": name, "plan": "TENANT_PLAN_PROFESSIONAL"}})
    assert reply.status_code == 200, reply.text
    return reply.json()["tenant"]


async def test_tenant_is_created_read_back_and_listed(edge: httpx.AsyncClient) -> None:
    tenant = await create_tenant(edge)
    assert tenant["name"] == f"tenants/{tenant['id']}"
    assert tenant["state"] == "TENANT_STATE_ACTIVE"

    fetched = await edge.get(f"/api/v1/tenants/{tenant['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["tenant"]["displayName"] == "Acme Brokers"
    assert fetched.headers["content-type"].startswith("application/json")
    assert fetched.headers.get("x-request-id")


async def test_tenant_list_pages_through_every_tenant_once(edge: httpx.AsyncClient) -> None:
    created = {(await create_tenant(edge, f"Paged {i}"))["id"] for i in range(5)}
    seen: list[str] = []
    token = ""
    while True:
        reply = await edge.get("/api/v1/tenants", params={"pageSize": 2, "pageToken": token})
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


async def test_register_login_session_and_user_flow(edge: httpx.AsyncClient) -> None:
    tenant = await create_tenant(edge)
    registered = await edge.post("/api/v1/auth/register", json={
        "tenantId": tenant["id"], "email": "ann@acme.example", "password": STRONG_PASSWORD,
        "displayName": "Ann"})
    assert registered.status_code == 200, registered.text
    user_id = registered.json()["userId"]

    # Login goes auth -> session through the sidecars over mTLS; the session lands in Valkey.
    login = await edge.post("/api/v1/auth/login", headers={
        "user-agent": "e2e-client/1.0", "x-tradesage-client-ip": "6.6.6.6"},
                            json={"tenantId": tenant["id"], "email": "ANN@acme.example",
                                  "password": STRONG_PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["userId"] == user_id
    session_id = login.json()["sessionId"]

    session = (await edge.get(f"/api/v1/sessions/{session_id}")).json()["session"]
    assert session["userId"] == user_id
    assert session["tenantId"] == tenant["id"]
    assert session["userAgent"] == "e2e-client/1.0"
    assert session["ipAddress"] == "127.0.0.1"

    user = (await edge.get(f"/api/v1/users/{user_id}")).json()["user"]
    assert user["email"] == "ann@acme.example"
    assert user["displayName"] == "Ann"
    assert user["tenantId"] == tenant["id"]


async def test_register_twice_is_already_exists(edge: httpx.AsyncClient) -> None:
    tenant = await create_tenant(edge)
    body = {"tenantId": tenant["id"], "email": "bob@acme.example", "password": STRONG_PASSWORD}
    assert (await edge.post("/api/v1/auth/register", json=body)).status_code == 200
    again = await edge.post("/api/v1/auth/register", json=body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "EMAIL_TAKEN"


async def test_wrong_password_is_unauthenticated(edge: httpx.AsyncClient) -> None:
    tenant = await create_tenant(edge)
    await edge.post("/api/v1/auth/register", json={
        "tenantId": tenant["id"], "email": "cy@acme.example", "password": STRONG_PASSWORD})
    reply = await edge.post("/api/v1/auth/login", json={
        "tenantId": tenant["id"], "email": "cy@acme.example", "password": "wrong horse 9"})
    assert reply.status_code == 401
    assert reply.json() == {"error": {"code": "INVALID_CREDENTIALS",
                                      "message": "email or password is wrong"}}
    assert STRONG_PASSWORD not in reply.text


async def test_register_in_unknown_tenant_is_not_found(edge: httpx.AsyncClient) -> None:
    reply = await edge.post("/api/v1/auth/register", json={
        "tenantId": str(uuid.uuid4()), "email": "dee@acme.example",
        "password": STRONG_PASSWORD})
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "TENANT_NOT_FOUND"


async def test_instruments_are_listed_from_the_catalogue(edge: httpx.AsyncClient) -> None:
    reply = await edge.get("/api/v1/market/instruments")
    assert reply.status_code == 200
    symbols = [i["symbol"] for i in reply.json()["instruments"]]
    assert {"AAPL", "MSFT", "BTC-USD"} <= set(symbols)
    assert symbols == sorted(symbols)


async def test_latest_quote_comes_from_the_feed(edge: httpx.AsyncClient) -> None:
    reply = await edge.get("/api/v1/market/quotes/msft")
    assert reply.status_code == 200, reply.text
    quote = reply.json()["quote"]
    assert quote["symbol"] == "MSFT"
    assert float(quote["bid"]) < float(quote["ask"])
    assert int(quote["sequence"]) >= 1


async def test_order_preview_prices_from_the_market_service(edge: httpx.AsyncClient) -> None:
    # trading -> market through the sidecars: a buy at market is priced at the current ask.
    reply = await edge.post("/api/v1/orders:preview", json={
        "symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "10",
        "orderType": "ORDER_TYPE_LIMIT", "limitPrice": "150.00"})
    assert reply.status_code == 200, reply.text
    preview = reply.json()
    assert preview["estimatedPrice"] == "150.00"
    assert preview["estimatedNotional"] == "1500.00"
    assert preview["estimatedFee"] == "1.50"  # basic plan: 10 bps, minimum 1.00
    assert preview["currencyCode"] == "USD"
    assert preview["quoteTime"]


async def test_order_preview_passes_on_the_market_services_error(
        edge: httpx.AsyncClient) -> None:
    reply = await edge.post("/api/v1/orders:preview", json={
        "symbol": "NOPE", "side": "ORDER_SIDE_BUY", "quantity": "1",
        "orderType": "ORDER_TYPE_MARKET"})
    assert reply.status_code == 404
    assert reply.json()["error"] == {
        "code": "SYMBOL_NOT_FOUND", "message": "unknown symbols: NOPE",
        "details": {"symbols": "NOPE"}}


async def test_unimplemented_rpc_is_501_in_the_error_shape(edge: httpx.AsyncClient) -> None:
    reply = await edge.delete(f"/api/v1/tenants/{uuid.uuid4()}")
    assert reply.status_code == 501
    assert reply.json()["error"]["code"] == "UNIMPLEMENTED"


async def test_openapi_document_is_served(edge: httpx.AsyncClient) -> None:
    reply = await edge.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    document = reply.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/tenants" in document["paths"]
    assert "/api/v1/market/stream" in document["paths"]
