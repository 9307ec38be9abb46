"""Fixtures of the end-to-end trading suites: a mesh whose quotes the tests publish."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mesh.supervisor import Mesh
from tests.support.accounts import create_tenant, signed_in_user
from tests.support.trading import Feed


@pytest.fixture(scope="session")
async def trading_mesh() -> AsyncIterator[Mesh]:
    """Start a mesh with the simulated feed off: the tests are the exchange (see `feed`)."""
    directory = Path(tempfile.mkdtemp(prefix="tradesage-trading-"))
    running = Mesh(data_dir=directory, edge_port=0, extra_env={
        "TRADESAGE_MARKET_FEED": "off", "TRADESAGE_TRADING_HEARTBEAT_SECONDS": "1"})
    await running.start()
    yield running
    await running.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
async def feed(trading_mesh: Mesh) -> AsyncIterator[Feed]:
    """Return the quote publisher of the trading mesh."""
    publisher = Feed(trading_mesh.redis_url)
    yield publisher
    await publisher.close()


@pytest.fixture(scope="session")
async def trading_edge(trading_mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    """Return an anonymous client of the trading mesh's edge."""
    async with httpx.AsyncClient(base_url=trading_mesh.edge_url, timeout=15.0) as client:
        yield client


async def trader(edge: httpx.AsyncClient, mesh: Mesh, plan: str = "TENANT_PLAN_PROFESSIONAL",
                 tenant_id: str | None = None) -> httpx.AsyncClient:
    """Return a client signed in as a new user (of a new tenant of `plan` unless given)."""
    tenant = tenant_id or await create_tenant(edge, plan=plan)
    user = await signed_in_user(edge, mesh.database_url, tenant)
    client = httpx.AsyncClient(base_url=mesh.edge_url, timeout=15.0, headers=user.headers)
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture(scope="module")
async def alice(trading_edge: httpx.AsyncClient, trading_mesh: Mesh
                ) -> AsyncIterator[httpx.AsyncClient]:
    """A trader of a new tenant (one per test module)."""
    client = await trader(trading_edge, trading_mesh)
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def bob(trading_edge: httpx.AsyncClient, trading_mesh: Mesh, alice: httpx.AsyncClient
              ) -> AsyncIterator[httpx.AsyncClient]:
    """A colleague of alice: the same tenant, another user, whose orders can match hers."""
    client = await trader(trading_edge, trading_mesh,
                          tenant_id=alice.user.tenant_id)  # type: ignore[attr-defined]
    yield client
    await client.aclose()
