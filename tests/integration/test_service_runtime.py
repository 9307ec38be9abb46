"""The shared server bootstrap: health, reflection, error mapping, graceful shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tradesage.tenant.v1 import tenant_service_pb2 as api
from tradesage.tenant.v1 import tenant_service_pb2_grpc as api_grpc

from mesh.ports import free_port
from services.runtime.config import ServiceConfig
from services.runtime.errors import FailedPrecondition
from services.runtime.server import Mounted, Resources, ServiceSpec, serve

SERVICE = "tradesage.tenant.v1.TenantService"


class SlowTenants(api_grpc.TenantServiceServicer):
    """GetTenant takes a while; ListTenants fails in the ways the interceptor must map."""

    async def GetTenant(self, request: api.GetTenantRequest,
                        context: grpc.aio.ServicerContext) -> api.GetTenantResponse:
        await asyncio.sleep(1.0)
        return api.GetTenantResponse()

    async def ListTenants(self, request: api.ListTenantsRequest,
                          context: grpc.aio.ServicerContext) -> api.ListTenantsResponse:
        if request.page_token == "domain":
            raise FailedPrecondition("not now", reason="NOT_NOW", metadata={"retryAfter": "5"})
        raise RuntimeError("secret internals")


async def build(resources: Resources) -> Mounted:
    return Mounted(servicers=[(api_grpc.add_TenantServiceServicer_to_server, SlowTenants())],
                   service_names=[SERVICE])


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Task[None]]]:
    address = f"127.0.0.1:{free_port()}"
    config = ServiceConfig("test", address, "", "", "", grace_seconds=5, log_level="INFO")
    stop = asyncio.Event()
    task = asyncio.create_task(serve(ServiceSpec("test", build), config, stop))
    async with grpc.aio.insecure_channel(address) as channel:
        await channel.channel_ready()
    yield address, stop, task
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_health_and_reflection_are_served(server) -> None:
    address, _, _ = server
    async with grpc.aio.insecure_channel(address) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=SERVICE))
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        names = {s.name async for reply in replies for s in reply.list_services_response.service}
    assert SERVICE in names


async def test_domain_error_becomes_status_with_details(server) -> None:
    address, _, _ = server
    async with grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await api_grpc.TenantServiceStub(channel).ListTenants(
                api.ListTenantsRequest(page_token="domain"))
    assert failed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    trailers = dict(failed.value.trailing_metadata())
    assert b"NOT_NOW" in trailers["grpc-status-details-bin"]
    assert '"retryAfter":"5"' in trailers["x-tradesage-error"]


async def test_unexpected_error_is_internal_without_internals(server) -> None:
    address, _, _ = server
    async with grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await api_grpc.TenantServiceStub(channel).ListTenants(
                api.ListTenantsRequest(), metadata=(("x-request-id", "req-42"),))
    assert failed.value.code() == grpc.StatusCode.INTERNAL
    assert failed.value.details() == "internal error (request id req-42)"
    assert "secret" not in str(failed.value.trailing_metadata())


async def test_unimplemented_method_is_unimplemented(server) -> None:
    address, _, _ = server
    async with grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await api_grpc.TenantServiceStub(channel).DeleteTenant(api.DeleteTenantRequest())
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_stop_lets_in_flight_calls_finish_and_refuses_new_ones(server) -> None:
    address, stop, task = server
    async with grpc.aio.insecure_channel(address) as channel:
        stub = api_grpc.TenantServiceStub(channel)
        in_flight = asyncio.ensure_future(stub.GetTenant(api.GetTenantRequest(name="tenants/x")))
        await asyncio.sleep(0.3)
        stop.set()
        assert isinstance(await in_flight, api.GetTenantResponse)
    await asyncio.wait_for(task, 10)
    async with grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await api_grpc.TenantServiceStub(channel).GetTenant(
                api.GetTenantRequest(name="tenants/x"), timeout=1)
    assert refused.value.code() in (grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.DEADLINE_EXCEEDED)
