"""Object storage for backups: a local directory by default, any S3-compatible store by setting.

Both stores write by streaming and make an object visible only once it is complete (a rename
for files, CompleteMultipartUpload for S3), so a reader never sees half an archive under its
final key. Keys are relative paths like `tenants/<tenant id>/backups/<backup id>.tsbk`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlparse

READ_CHUNK = 1 << 20
# S3 multipart parts must be at least 5 MiB, except the last.
S3_PART_SIZE = 8 << 20


class ObjectNotFound(LookupError):
    """The object does not exist."""


@dataclass(frozen=True)
class StoredObject:
    """One object under a prefix."""

    key: str
    size: int


class ObjectStore(Protocol):
    """Where backup archives live."""

    def uri(self, key: str) -> str:
        """Return the object's location for humans and the catalogue (file://, s3://)."""
        ...

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Write the object from `chunks`, visible only when complete; return its size."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """Yield the object's bytes in chunks; raise ObjectNotFound if missing."""
        ...

    def local_copy(self, key: str) -> contextlib.AbstractAsyncContextManager[Path]:
        """Yield a local file holding the object (the object itself for a directory store)."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object; a missing object is not an error."""
        ...

    async def list(self, prefix: str) -> list[StoredObject]:
        """Return the objects whose keys start with `prefix`, sorted by key."""
        ...

    async def close(self) -> None:
        """Release clients and connections."""
        ...


def _checked_key(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"object key must be a relative path without '..': {key!r}")
    return path


class LocalObjectStore:
    """Objects as files under a root directory (mode 0700 directories, 0600 files)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """Return the file of `key`."""
        return self.root.joinpath(*_checked_key(key).parts)

    def uri(self, key: str) -> str:
        """Return the file:// URI of `key`."""
        return self.path(key).as_uri()

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Write to a temporary file beside the target, fsync it, then rename it into place."""
        target = self.path(key)
        await asyncio.to_thread(_make_dirs, target.parent, self.root)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        handle = await asyncio.to_thread(_open_private, partial)
        size = 0
        try:
            async for chunk in chunks:
                if chunk:
                    await asyncio.to_thread(handle.write, chunk)
                    size += len(chunk)
            await asyncio.to_thread(_sync_close, handle)
            await asyncio.to_thread(_replace_durably, partial, target)
        except BaseException:
            handle.close()
            partial.unlink(missing_ok=True)
            raise
        return size

    async def read(self, key: str) -> AsyncIterator[bytes]:
        """Yield the file's bytes in 1 MiB chunks."""
        path = self.path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        try:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk
        finally:
            handle.close()

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        """Yield the object's own file: it already is local."""
        path = self.path(key)
        if not await asyncio.to_thread(path.is_file):
            raise ObjectNotFound(key)
        yield path

    async def delete(self, key: str) -> None:
        """Remove the file if it exists."""
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def list(self, prefix: str) -> list[StoredObject]:
        """Return the complete files under `prefix` (temporary files of writes are skipped)."""
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[StoredObject]:
        found = []
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.is_dir():
            return []
        for path in base.rglob("*"):
            if not path.is_file() or path.name.endswith(".partial"):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                found.append(StoredObject(key, path.stat().st_size))
        return sorted(found, key=lambda item: item.key)

    async def close(self) -> None:
        """Nothing to release."""


def _make_dirs(directory: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def _open_private(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def _sync_close(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _replace_durably(source: Path, target: Path) -> None:
    os.replace(source, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a crash only once the directory is synced
    finally:
        os.close(fd)


class S3ObjectStore:
    """Objects in a bucket of any S3-compatible store (AWS, MinIO, Ceph, moto) via aiobotocore.

    Credentials and region come from the standard AWS sources (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, profiles, instance roles)
    unless given here.
    """

    def __init__(self, url: str, *, endpoint_url: str | None = None,
                 region: str | None = None, spool_dir: Path | None = None,
                 client_options: dict[str, Any] | None = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"an S3 location looks like s3://bucket/prefix, not {url!r}")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self._endpoint = endpoint_url or None
        self._region = region
        self._spool_dir = spool_dir
        self._options = dict(client_options or {})
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._lock = asyncio.Lock()

    def _key(self, key: str) -> str:
        relative = _checked_key(key).as_posix()
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def uri(self, key: str) -> str:
        """Return the s3:// URI of `key`."""
        return f"s3://{self.bucket}/{self._key(key)}"

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                from aiobotocore.session import get_session

                options = {"endpoint_url": self._endpoint, **self._options}
                if self._region:
                    options["region_name"] = self._region
                self._client = await self._stack.enter_async_context(
                    get_session().create_client("s3", **options))
            return self._client

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Upload with one PUT when small, else as a multipart upload aborted on failure."""
        s3, name = await self._s3(), self._key(key)
        buffer, size = bytearray(), 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= S3_PART_SIZE:
                    if upload_id is None:
                        created = await s3.create_multipart_upload(Bucket=self.bucket, Key=name)
                        upload_id = created["UploadId"]
                    part = bytes(buffer[:S3_PART_SIZE])
                    del buffer[:S3_PART_SIZE]
                    parts.append(await self._upload_part(s3, name, upload_id, len(parts) + 1,
                                                         part))
            if upload_id is None:
                await s3.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
                return size
            if buffer:
                parts.append(await self._upload_part(s3, name, upload_id, len(parts) + 1,
                                                     bytes(buffer)))
            await s3.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id,
                                               MultipartUpload={"Parts": parts})
            upload_id = None
            return size
        finally:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await s3.abort_multipart_upload(Bucket=self.bucket, Key=name,
                                                    UploadId=upload_id)

    async def _upload_part(self, s3: Any, name: str, upload_id: str, number: int,
                           body: bytes) -> dict[str, Any]:
        done = await s3.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id,
                                    PartNumber=number, Body=body)
        return {"PartNumber": number, "ETag": done["ETag"]}

    async def read(self, key: str) -> AsyncIterator[bytes]:
        """Yield the object's bytes as they arrive."""
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self._key(key))
        except s3.exceptions.NoSuchKey:
            raise ObjectNotFound(key) from None
        async with response["Body"] as body:
            while chunk := await body.read(READ_CHUNK):
                yield chunk

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        """Download the object into a private temporary file, removed afterwards."""
        if self._spool_dir is not None:
            await asyncio.to_thread(self._spool_dir.mkdir, 0o700, True, True)
        directory = Path(tempfile.mkdtemp(prefix="tradesage-backup-", dir=self._spool_dir))
        try:
            path = directory / "archive"
            handle = await asyncio.to_thread(_open_private, path)
            try:
                async for chunk in self.read(key):
                    await asyncio.to_thread(handle.write, chunk)
            finally:
                handle.close()
            yield path
        finally:
            await asyncio.to_thread(shutil.rmtree, directory, True)

    async def delete(self, key: str) -> None:
        """Delete the object (S3 answers success for a missing key too)."""
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.bucket, Key=self._key(key))

    async def list(self, prefix: str) -> list[StoredObject]:
        """Return the objects under `prefix`, following continuation tokens."""
        s3 = await self._s3()
        base = f"{self.prefix}/" if self.prefix else ""
        found = []
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix):
            for item in page.get("Contents", []):
                found.append(StoredObject(item["Key"][len(base):], int(item["Size"])))
        return sorted(found, key=lambda item: item.key)

    async def close(self) -> None:
        """Close the client and its connection pool."""
        async with self._lock:
            self._client = None
            await self._stack.aclose()
