"""The authorization model: the role hierarchy, custom roles, and what the contracts declare."""

from __future__ import annotations

import itertools

import pytest
from google.protobuf import descriptor_pb2

from edge.openapi import http_routes, iter_methods
from mesh.descriptors import DESCRIPTOR_SET
from mesh.topology import load
from services.runtime import authz
from services.runtime.errors import PermissionDenied
from services.user.roles import check_may_grant


def test_each_role_has_everything_of_the_roles_below() -> None:
    chain = [authz.builtin_permissions(role) for role in authz.HIERARCHY]
    for lower, higher in itertools.pairwise(chain):
        assert lower < higher


@pytest.mark.parametrize(("role", "permission", "granted"), [
    ("viewer", "market.read", True), ("viewer", "orders.place", False),
    ("trader", "orders.place", True), ("trader", "users.manage", False),
    ("admin", "users.manage", True), ("admin", "tenant.delete", False),
    ("owner", "tenant.delete", True), ("owner", "platform.tenants", False),
    ("platform-admin", "platform.tenants", True), ("nobody", "market.read", False),
])
def test_builtin_permissions(role: str, permission: str, granted: bool) -> None:
    assert (permission in authz.builtin_permissions(role)) is granted


def test_custom_role_adds_to_its_base_but_never_operator_powers() -> None:
    granted = authz.custom_role_permissions(
        {"inherits": "viewer", "permissions": ["orders.cancel", "platform.tenants"]})
    assert "orders.cancel" in granted
    assert "market.read" in granted  # from viewer
    assert "platform.tenants" not in granted
    assert "orders.place" not in granted


def test_nobody_grants_more_than_they_hold() -> None:
    admin = authz.builtin_permissions("admin")
    check_may_grant(admin, ["trader", "viewer"], {})
    with pytest.raises(PermissionDenied):
        check_may_grant(admin, ["owner"], {})
    with pytest.raises(PermissionDenied):
        check_may_grant(admin, ["platform-admin"], {})
    with pytest.raises(PermissionDenied):
        check_may_grant(admin, ["no-such-role"], {})
    check_may_grant(admin, ["desk"], {"desk": frozenset({"orders.place"})})


def _methods() -> list[tuple[str, descriptor_pb2.MethodDescriptorProto]]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    return list(iter_methods(files))


def test_every_non_public_rest_rpc_declares_a_known_permission() -> None:
    # Importing the stubs registers the contracts in the default descriptor pool.
    import tradesage.auth.v1.auth_service_pb2
    import tradesage.market.v1.market_service_pb2
    import tradesage.session.v1.session_service_pb2
    import tradesage.tenant.v1.tenant_service_pb2
    import tradesage.trading.v1.trading_service_pb2
    import tradesage.user.v1.user_service_pb2  # noqa: F401

    public = set(load().edge["public_methods"])
    for service, method in _methods():
        full = f"{service}.{method.name}"
        declared = authz.required_permission(f"/{service}/{method.name}")
        if full in public:
            assert declared is None, f"{full} is public but declares {declared}"
        elif http_routes(method):
            assert declared in authz.ALL_PERMISSIONS, f"{full} declares {declared!r}"
