"""Signing keys rotate: a successor is published before it signs, a predecessor stays
published until its last token has expired."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from mesh.supervisor import Mesh
from services.auth.config import AuthSettings
from services.auth.keys import SigningKeyStore
from services.auth.secret_box import SecretBox
from services.runtime.database import migrate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def pool(mesh: Mesh) -> AsyncIterator[asyncpg.Pool]:
    """A scratch database on the mesh's server, so rotating keys fast cannot disturb it."""
    name = f"keys_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(mesh.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    scratch = await asyncpg.create_pool(mesh.database_url.replace("/tradesage?", f"/{name}?"))
    await migrate(scratch, "platform", ROOT / "services" / "runtime" / "migrations")
    await migrate(scratch, "auth", ROOT / "services" / "auth" / "migrations")
    yield scratch
    await scratch.close()
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


def store(pool: asyncpg.Pool) -> SigningKeyStore:
    settings = AuthSettings(master_key=bytes(32), key_rotation=2, publish_lead=1, access_ttl=2)
    return SigningKeyStore(pool, SecretBox(settings.master_key), settings)


async def test_first_key_signs_at_once(pool: asyncpg.Pool) -> None:
    keys = store(pool)
    await keys.rotate()
    current = await keys.current()
    assert [k["kid"] for k in await keys.jwks()] == [current.kid]


async def test_successor_is_published_before_it_signs_and_predecessor_lingers(
        pool: asyncpg.Pool) -> None:
    keys = store(pool)
    await keys.rotate()
    first = (await keys.current()).kid
    await asyncio.sleep(1.2)  # rotation (2 s) minus lead (1 s) has passed: publish the next
    await keys.rotate()
    published = [k["kid"] for k in await keys.jwks()]
    assert len(published) == 2 and published[0] == first
    successor = published[1]
    assert (await store(pool).current()).kid == first  # not signing yet
    await asyncio.sleep(1.2)
    await keys.rotate()
    assert (await store(pool).current()).kid == successor
    assert first in [k["kid"] for k in await keys.jwks()]  # its tokens may still be live
    await asyncio.sleep(2.5)  # longer than the access-token lifetime after retirement
    await keys.rotate()
    assert first not in [k["kid"] for k in await keys.jwks()]


async def test_private_keys_are_stored_encrypted(pool: asyncpg.Pool) -> None:
    keys = store(pool)
    await keys.rotate()
    stored = await pool.fetchval("SELECT private_key FROM auth.signing_keys LIMIT 1")
    assert b"PRIVATE KEY" not in stored
