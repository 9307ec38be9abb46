"""Make tenants and signed-in users through the REST edge, as a client would.

The one shortcut: the verification or reset token is read from the auth outbox in PostgreSQL,
where the embedded default keeps mail (the same text a user would get by mail).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import asyncpg
import httpx

PASSWORD = "correct horse 9 battery"
_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-]+)")


@dataclass(frozen=True)
class User:
    """A registered, verified and signed-in user."""

    tenant_id: str
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    session_id: str

    @property
    def headers(self) -> dict[str, str]:
        """Return the headers that authenticate this user at the edge."""
        return {"authorization": f"Bearer {self.access_token}"}


async def create_tenant(edge: httpx.AsyncClient, plan: str = "TENANT_PLAN_PROFESSIONAL",
                        name: str = "Acme Brokers") -> str:
    """Create a tenant (self-service sign-up) and return its id."""
    reply = await edge.post("/api/v1/tenants",
                            json={"tenant": {"displayName": name, "plan": plan}})
    assert reply.status_code == 200, reply.text
    return reply.json()["tenant"]["id"]


async def latest_mail_token(database_url: str, recipient: str, kind: str) -> str:
    """Return the token in the newest outbox mail of `kind` to `recipient`."""
    connection = await asyncpg.connect(database_url)
    try:
        body = await connection.fetchval(
            """SELECT body_text FROM auth.outbox_mail WHERE recipient = $1 AND kind = $2
               ORDER BY create_time DESC LIMIT 1""", recipient, kind)
    finally:
        await connection.close()
    assert body, f"no {kind} mail to {recipient}"
    match = _TOKEN.search(body)
    assert match, body
    return match.group(1)


async def register(edge: httpx.AsyncClient, database_url: str, tenant_id: str,
                   email: str | None = None, *, verify: bool = True) -> tuple[str, str]:
    """Register (and verify) a user; return (user id, email)."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@acme.example"
    reply = await edge.post("/api/v1/auth/register", json={
        "tenantId": tenant_id, "email": email, "password": PASSWORD, "displayName": "Test"})
    assert reply.status_code == 200, reply.text
    if verify:
        token = await latest_mail_token(database_url, email, "email_verification")
        verified = await edge.post("/api/v1/auth/verify-email",
                                   json={"tenantId": tenant_id, "token": token})
        assert verified.status_code == 200, verified.text
    return reply.json()["userId"], email


async def login(edge: httpx.AsyncClient, tenant_id: str, email: str,
                password: str = PASSWORD, **extra: str) -> httpx.Response:
    """Sign in and return the raw reply."""
    return await edge.post("/api/v1/auth/login", json={
        "tenantId": tenant_id, "email": email, "password": password, **extra})


async def signed_in_user(edge: httpx.AsyncClient, database_url: str,
                         tenant_id: str | None = None) -> User:
    """Return a new user of a (new) tenant, signed in."""
    tenant_id = tenant_id or await create_tenant(edge)
    user_id, email = await register(edge, database_url, tenant_id)
    reply = await login(edge, tenant_id, email)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return User(tenant_id, user_id, email, PASSWORD, body["accessToken"], body["refreshToken"],
                body["sessionId"])


async def with_roles(edge: httpx.AsyncClient, database_url: str, user: User,
                     *roles: str) -> User:
    """Give `user` these roles and return them with a refreshed token carrying them.

    Roles are set in the database directly: role management is the user service's issue.
    """
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("UPDATE platform.users SET roles = $2 WHERE id = $1",
                                 uuid.UUID(user.user_id), list(roles))
    finally:
        await connection.close()
    reply = await edge.post("/api/v1/auth/refresh", json={"refreshToken": user.refresh_token})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return User(user.tenant_id, user.user_id, user.email, user.password, body["accessToken"],
                body["refreshToken"], user.session_id)
