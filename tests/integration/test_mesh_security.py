"""Services reach each other only over mTLS, and only as the topology allows."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import grpc
import psutil
import pytest
from tradesage.market.v1 import market_service_pb2 as market_api
from tradesage.market.v1 import market_service_pb2_grpc as market_grpc
from tradesage.session.v1 import session_service_pb2 as session_api
from tradesage.session.v1 import session_service_pb2_grpc as session_grpc
from tradesage.trading.v1 import trading_service_pb2 as trading_api
from tradesage.trading.v1 import trading_service_pb2_grpc as trading_grpc

from mesh.pki import Identity, make_foreign_ca_identity
from mesh.supervisor import Mesh

UNKNOWN_SESSION = session_api.GetSessionRequest(name="sessions/" + "0" * 32)


def mtls_channel(mesh: Mesh, service: str, identity: Identity | None) -> grpc.aio.Channel:
    """Open a channel to `service`'s inbound sidecar presenting `identity` (or no cert)."""
    assert mesh.pki is not None and mesh.plan is not None
    credentials = grpc.ssl_channel_credentials(
        root_certificates=mesh.pki.ca_cert_path.read_bytes(),
        private_key=identity.key_path.read_bytes() if identity else None,
        certificate_chain=identity.cert_path.read_bytes() if identity else None)
    return grpc.aio.secure_channel(
        f"127.0.0.1:{mesh.plan.of(service).inbound}", credentials,
        options=[("grpc.ssl_target_name_override", service)])


async def get_unknown_session(channel: grpc.aio.Channel) -> grpc.StatusCode:
    try:
        await session_grpc.SessionServiceStub(channel).GetSession(UNKNOWN_SESSION, timeout=5)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def test_allowed_caller_reaches_the_service(mesh: Mesh) -> None:
    assert mesh.pki is not None
    async with mtls_channel(mesh, "session", mesh.pki.identity("auth")) as channel:
        # NOT_FOUND comes from the session app itself: the call got through the sidecar.
        assert await get_unknown_session(channel) == grpc.StatusCode.NOT_FOUND


async def test_caller_not_in_topology_is_permission_denied(mesh: Mesh) -> None:
    assert mesh.pki is not None
    async with mtls_channel(mesh, "session", mesh.pki.identity("market")) as channel:
        assert await get_unknown_session(channel) == grpc.StatusCode.PERMISSION_DENIED


async def test_caller_without_client_certificate_is_refused(mesh: Mesh) -> None:
    async with mtls_channel(mesh, "session", None) as channel:
        assert await get_unknown_session(channel) == grpc.StatusCode.UNAVAILABLE


async def test_certificate_from_another_ca_is_refused(mesh: Mesh, tmp_path: Path) -> None:
    impostor = make_foreign_ca_identity(tmp_path / "foreign", "auth")
    async with mtls_channel(mesh, "session", impostor) as channel:
        assert await get_unknown_session(channel) == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_to_inbound_sidecar_is_refused(mesh: Mesh) -> None:
    assert mesh.plan is not None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{mesh.plan.of('session').inbound}") as ch:
        assert await get_unknown_session(ch) == grpc.StatusCode.UNAVAILABLE


def outbound_channel(mesh: Mesh, caller: str, peer: str) -> grpc.aio.Channel:
    """Open the channel an app uses: its own sidecar's outbound listener, peer by authority."""
    assert mesh.plan is not None
    return grpc.aio.insecure_channel(f"127.0.0.1:{mesh.plan.of(caller).outbound}",
                                     options=[("grpc.default_authority", peer)])


async def test_app_may_call_a_peer_its_topology_lists(mesh: Mesh) -> None:
    async with outbound_channel(mesh, "trading", "market") as channel:
        reply = await market_grpc.MarketDataServiceStub(channel).GetQuote(
            market_api.GetQuoteRequest(symbol="AAPL"), timeout=5)
    assert reply.quote.symbol == "AAPL"


async def test_app_calling_a_peer_outside_its_topology_is_denied(mesh: Mesh) -> None:
    async with outbound_channel(mesh, "market", "trading") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await trading_grpc.TradingServiceStub(channel).PreviewOrder(
                trading_api.PreviewOrderRequest(symbol="AAPL"), timeout=5)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_apps_listen_on_loopback_only(mesh: Mesh) -> None:
    assert mesh.plan is not None
    for name in mesh.topology.names:
        port = mesh.plan.of(name).app
        listeners = [c for c in psutil.net_connections(kind="tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
        assert listeners, f"{name} is not listening"
        assert all(is_loopback(c.laddr.ip) for c in listeners), listeners


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # gRPC binds IPv4 on a dual-stack socket
    return (mapped or address).is_loopback
