"""Every REST route and every built-in role gives exactly the allow/deny its contract declares."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from google.protobuf import descriptor_pb2

from edge.openapi import http_routes, iter_methods
from mesh.descriptors import DESCRIPTOR_SET
from mesh.supervisor import Mesh
from services.runtime import authz
from tests.support.accounts import User, create_tenant, signed_in_user, with_roles

ROLES = ("viewer", "trader", "admin", "owner")
_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")


def _routes() -> list[tuple[str, str, str, str]]:
    """Return (rpc, permission, HTTP method, concrete path) of every protected route."""
    # Importing the stubs registers the contracts, whose method options we read.
    from tradesage.auth.v1 import auth_service_pb2  # noqa: F401
    from tradesage.market.v1 import market_service_pb2  # noqa: F401
    from tradesage.session.v1 import session_service_pb2  # noqa: F401
    from tradesage.tenant.v1 import tenant_service_pb2  # noqa: F401
    from tradesage.trading.v1 import trading_service_pb2  # noqa: F401
    from tradesage.user.v1 import user_service_pb2  # noqa: F401

    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    routes = []
    for service, method in iter_methods(files):
        permission = authz.required_permission(f"/{service}/{method.name}")
        if permission is None:
            continue
        routes += [(f"{service}.{method.name}", permission, route.method.upper(),
                    _concrete(route.template)) for route in http_routes(method)]
    return routes


def _concrete(template: str) -> str:
    """Fill path variables with values that name nothing real (random ids, a real symbol)."""
    def fill(match: re.Match[str]) -> str:
        pattern = match.group(2)
        if not pattern:
            return "AAPL" if match.group(1) == "symbol" else uuid.uuid4().hex
        return "/".join(str(uuid.uuid4()) if s in ("*", "**") else s for s in pattern.split("/"))
    return _VARIABLE.sub(fill, template)


# Signing out ends the caller's session, so it goes last.
ROUTES = sorted(_routes(), key=lambda route: route[0].endswith(".Logout"))


@pytest.fixture(scope="module")
async def role_users(edge: httpx.AsyncClient, mesh: Mesh) -> dict[str, User]:
    tenant_id = await create_tenant(edge, name="Matrix Inc")
    return {role: await with_roles(edge, mesh.database_url,
                                   await signed_in_user(edge, mesh.database_url, tenant_id), role)
            for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
async def test_every_route_allows_exactly_the_declared_roles(
        edge: httpx.AsyncClient, role_users: dict[str, User], role: str) -> None:
    assert len(ROUTES) > 50
    granted = authz.builtin_permissions(role)
    wrong = []
    for rpc, permission, verb, path in ROUTES:
        status, code, details = await _call(edge, role_users[role], verb, path)
        denied = status == 403 and details.get("permission") == permission
        # A 401 about the token itself would mean the matrix tested nothing.
        token_refused = code in ("UNAUTHENTICATED", "SESSION_REVOKED")
        if (permission in granted) == denied or token_refused:
            wrong.append((rpc, permission, status, code, details))
    assert not wrong, wrong


async def _call(edge: httpx.AsyncClient, user: User, verb: str,
                path: str) -> tuple[int, str, dict[str, str]]:
    body = {} if verb in ("POST", "PUT", "PATCH") else None
    async with edge.stream(verb, path, json=body, headers=user.headers) as reply:
        if reply.headers.get("content-type", "").startswith("text/event-stream"):
            return reply.status_code, "", {}  # an open stream: it was allowed
        await reply.aread()
    error = {}
    if reply.headers.get("content-type", "").startswith("application/json"):
        error = reply.json().get("error") or {}
    return reply.status_code, error.get("code", ""), error.get("details") or {}
