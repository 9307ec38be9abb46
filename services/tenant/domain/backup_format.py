"""The tenant backup archive: keys, the encrypted chunk envelope, and the dump it carries.

Pure Python (no I/O, no gRPC): `services/tenant/backup.py` drives it with pg_dump and an
object store.

Archive (format version 1), one object per backup, written and read as a stream:

    header   b"TSBK" | version u8 (=1) | length u32 BE | canonical JSON (sorted keys):
             v, backup_id, tenant_id, schema, created, payload, compression, cipher, kdf,
             chunk_size, salt (base64url, 16 random bytes)
    records  length u32 BE | AES-256-GCM ciphertext + 16-byte tag, repeated; the last record
             is flagged final (it may be empty), and nothing may follow it

Keys: the tenant key is HKDF-SHA256(master key, salt="tradesage/backup/v1",
info="tenant:" + tenant id), so each tenant's archives need that tenant's key. Each archive then
has its own data key, HKDF-SHA256(tenant key, salt=header salt, info="tradesage/backup/v1/data"),
so the record counter can be the nonce without ever repeating a (key, nonce) pair.

Record i is sealed with nonce = i (u64 BE) | final (u8) | 3 zero bytes and associated data
SHA-256(header) | i | final. Changing the header, a byte, the order of records, or dropping
records at the end (the final flag is missing then) fails authentication. The payload is the
zlib stream of the dump; records are cut at `chunk_size` bytes of compressed data, so memory
stays bounded whatever the size of the tenant.

Payload: the plain-format output of `pg_dump --data-only --schema=<tenant schema>`: one
`COPY <schema>.<table> (<columns>) FROM stdin;` block of text-format rows per table and one
`SELECT pg_catalog.setval(...)` per sequence. `DumpParser` reads it back as events, so a restore
can load the rows with COPY into any schema (the same tenant's or a new tenant's) and rewrite
the `tenant_id` column on the way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.runtime.errors import DomainError

MAGIC = b"TSBK"
FORMAT_VERSION = 1
PAYLOAD = "pg_dump/plain/data-only"
COMPRESSION = "zlib"
CIPHER = "aes-256-gcm"
KDF = "hkdf-sha256"
DEFAULT_CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 16 << 20
MAX_HEADER_SIZE = 64 << 10
KEY_SIZE = 32
SALT_SIZE = 16
TAG_SIZE = 16
DEFAULT_COMPRESS_LEVEL = 6
# Decompressed output is handed out in pieces of at most this size.
MAX_PIECE = 4 << 20

# The column whose value names the owning tenant; a restore into another tenant rewrites it.
TENANT_COLUMN = "tenant_id"

# The ErrorInfo reason of tenant_errors.proto (TENANT_ERROR_REASON_BACKUP_CORRUPT, DATA_LOSS).
BACKUP_CORRUPT_REASON = "BACKUP_CORRUPT"

_PREAMBLE = struct.Struct(">4sBI")
_LENGTH = struct.Struct(">I")
_TENANT_KEY_SALT = b"tradesage/backup/v1"
_DATA_KEY_INFO = b"tradesage/backup/v1/data"


class BackupCorrupted(DomainError):
    """A stored backup fails its checksum or authentication; it is refused, never loaded."""

    status = "DATA_LOSS"


def backup_corrupted(backup_id: str, detail: str) -> BackupCorrupted:
    """Return the error for a backup that is damaged, truncated or sealed with another key."""
    return BackupCorrupted(f"backup {backup_id} is corrupted and was not restored: {detail}",
                           reason=BACKUP_CORRUPT_REASON, metadata={"backupId": backup_id})


class EnvelopeError(ValueError):
    """The archive is not intact: tampered, truncated, reordered or under the wrong key."""


class DumpFormatError(ValueError):
    """The dump holds a statement a backup cannot restore faithfully."""


# --- keys ---------------------------------------------------------------------------------


def decode_master_key(raw: str) -> bytes:
    """Return the 32-byte master key from its base64url form (padding optional)."""
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (ValueError, TypeError):
        key = b""
    if len(key) != KEY_SIZE:
        raise ValueError("the backup master key must be base64url of 32 random bytes")
    return key


def tenant_key(master_key: bytes, tenant_id: str) -> bytes:
    """Return the tenant's backup key: HKDF-SHA256 of the master key and the tenant id."""
    if len(master_key) != KEY_SIZE:
        raise ValueError("the backup master key must be 32 bytes")
    info = b"tenant:" + str(uuid.UUID(tenant_id)).encode()
    return HKDF(hashes.SHA256(), KEY_SIZE, _TENANT_KEY_SALT, info).derive(master_key)


def _data_key(tenant_key_: bytes, salt: bytes) -> bytes:
    return HKDF(hashes.SHA256(), KEY_SIZE, salt, _DATA_KEY_INFO).derive(tenant_key_)


def sha256_hex(chunks: Iterable[bytes]) -> str:
    """Return the hex SHA-256 of the concatenated chunks."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


# --- header -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """What an archive says about itself, in the clear but authenticated by every record."""

    backup_id: str
    tenant_id: str
    schema: str
    created: str
    salt: bytes
    chunk_size: int = DEFAULT_CHUNK_SIZE
    payload: str = PAYLOAD
    compression: str = COMPRESSION
    cipher: str = CIPHER
    kdf: str = KDF
    version: int = FORMAT_VERSION

    def encode(self) -> bytes:
        """Return the header bytes: preamble and canonical JSON."""
        body = json.dumps({
            "v": self.version, "backup_id": self.backup_id, "tenant_id": self.tenant_id,
            "schema": self.schema, "created": self.created,
            "salt": base64.urlsafe_b64encode(self.salt).decode().rstrip("="),
            "chunk_size": self.chunk_size, "payload": self.payload,
            "compression": self.compression, "cipher": self.cipher, "kdf": self.kdf,
        }, sort_keys=True, separators=(",", ":")).encode()
        return _PREAMBLE.pack(MAGIC, self.version, len(body)) + body

    @classmethod
    def decode(cls, body: bytes) -> Header:
        """Parse the JSON part of a header; reject versions and algorithms we do not know."""
        try:
            raw = json.loads(body)
            salt = base64.urlsafe_b64decode(raw["salt"] + "=" * (-len(raw["salt"]) % 4))
            header = cls(backup_id=str(raw["backup_id"]), tenant_id=str(raw["tenant_id"]),
                         schema=str(raw["schema"]), created=str(raw["created"]), salt=salt,
                         chunk_size=int(raw["chunk_size"]), payload=raw["payload"],
                         compression=raw["compression"], cipher=raw["cipher"], kdf=raw["kdf"],
                         version=int(raw["v"]))
        except (ValueError, KeyError, TypeError) as error:
            raise EnvelopeError(f"the archive header is not readable ({error})") from None
        known = (FORMAT_VERSION, PAYLOAD, COMPRESSION, CIPHER, KDF)
        if (header.version, header.payload, header.compression, header.cipher,
                header.kdf) != known:
            raise EnvelopeError("the archive uses a format this version cannot read")
        if not 0 < header.chunk_size <= MAX_CHUNK_SIZE or len(header.salt) != SALT_SIZE:
            raise EnvelopeError("the archive header has out-of-range parameters")
        return header


def _nonce_and_aad(header_digest: bytes, counter: int, final: bool) -> tuple[bytes, bytes]:
    position = struct.pack(">QB", counter, final)
    return position + b"\0\0\0", header_digest + position


# --- envelope ----------------------------------------------------------------------------


class ArchiveWriter:
    """Turn dump bytes into archive bytes: compress, cut into chunks, seal each, hash all.

    `update` and `finish` return the archive bytes to store next; `sha256` and `size` describe
    everything returned once `finish` has run.
    """

    def __init__(self, tenant_key_: bytes, header: Header,
                 level: int = DEFAULT_COMPRESS_LEVEL) -> None:
        self.header = header
        header_bytes = header.encode()
        self._aead = AESGCM(_data_key(tenant_key_, header.salt))
        self._header_digest = hashlib.sha256(header_bytes).digest()
        self._compressor = zlib.compressobj(level)
        self._pending = bytearray()
        self._counter = 0
        self._finished = False
        self._hash = hashlib.sha256()
        self.size = 0
        self.plain_size = 0
        self._out: list[bytes] = []
        self._emit(header_bytes)

    @property
    def sha256(self) -> str:
        """Return the hex SHA-256 of the archive bytes returned so far."""
        return self._hash.hexdigest()

    def update(self, data: bytes) -> bytes:
        """Take more dump bytes; return the archive bytes that are ready."""
        if self._finished:
            raise ValueError("the archive is already finished")
        self.plain_size += len(data)
        self._pending += self._compressor.compress(data)
        size = self.header.chunk_size
        while len(self._pending) > size:  # keep at least one byte back for the final record
            self._seal(bytes(self._pending[:size]), final=False)
            del self._pending[:size]
        return self._drain()

    def finish(self) -> bytes:
        """Flush the compressor, seal the final record and return the last archive bytes."""
        if self._finished:
            raise ValueError("the archive is already finished")
        self._pending += self._compressor.flush()
        size = self.header.chunk_size
        while len(self._pending) > size:
            self._seal(bytes(self._pending[:size]), final=False)
            del self._pending[:size]
        self._seal(bytes(self._pending), final=True)
        self._pending.clear()
        self._finished = True
        return self._drain()

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        nonce, aad = _nonce_and_aad(self._header_digest, self._counter, final)
        sealed = self._aead.encrypt(nonce, plaintext, aad)
        self._counter += 1
        self._emit(_LENGTH.pack(len(sealed)) + sealed)

    def _emit(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        self._out.append(data)

    def _drain(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out


class ArchiveReader:
    """Turn archive bytes back into dump bytes, authenticating every record before use.

    `tenant_key_` is the key of the tenant the catalogue says the backup belongs to; the header
    must name that tenant (and `backup_id`, when given). Raise EnvelopeError on any damage.
    """

    def __init__(self, tenant_key_: bytes, *, tenant_id: str | None = None,
                 backup_id: str | None = None) -> None:
        self._key = tenant_key_
        self._expect_tenant = tenant_id
        self._expect_backup = backup_id
        self._buffer = bytearray()
        self.header: Header | None = None
        self._header_digest = b""
        self._aead: AESGCM | None = None
        self._decompressor = zlib.decompressobj()
        self._counter = 0
        self._final_seen = False

    def update(self, data: bytes) -> list[bytes]:
        """Take more archive bytes; return the dump bytes they complete (in bounded pieces)."""
        self._buffer += data
        out: list[bytes] = []
        if self.header is None and not self._read_header():
            return out
        while True:
            if self._final_seen:
                if self._buffer:
                    raise EnvelopeError("the archive has data after its final record")
                return out
            if len(self._buffer) < _LENGTH.size:
                return out
            (length,) = _LENGTH.unpack_from(self._buffer)
            assert self.header is not None
            if not TAG_SIZE <= length <= self.header.chunk_size + TAG_SIZE:
                raise EnvelopeError(f"record {self._counter} has an impossible length")
            if len(self._buffer) < _LENGTH.size + length:
                return out
            sealed = bytes(self._buffer[_LENGTH.size:_LENGTH.size + length])
            del self._buffer[:_LENGTH.size + length]
            out.extend(self._open(sealed))

    def finish(self) -> list[bytes]:
        """Check that the archive ended with its final record; return any last dump bytes."""
        if self.header is None:
            raise EnvelopeError("the archive ends inside its header")
        if not self._final_seen:
            raise EnvelopeError("the archive is truncated: its final record is missing")
        if self._buffer:
            raise EnvelopeError("the archive has data after its final record")
        if not self._decompressor.eof:
            raise EnvelopeError("the compressed payload is incomplete")
        return []

    def _read_header(self) -> bool:
        if len(self._buffer) < _PREAMBLE.size:
            return False
        magic, version, length = _PREAMBLE.unpack_from(self._buffer)
        if magic != MAGIC:
            raise EnvelopeError("the object is not a TradeSage backup archive")
        if version != FORMAT_VERSION:
            raise EnvelopeError(f"archive format version {version} is not supported")
        if length > MAX_HEADER_SIZE:
            raise EnvelopeError("the archive header is too large")
        if len(self._buffer) < _PREAMBLE.size + length:
            return False
        raw = bytes(self._buffer[:_PREAMBLE.size + length])
        del self._buffer[:_PREAMBLE.size + length]
        header = Header.decode(raw[_PREAMBLE.size:])
        if self._expect_tenant is not None and header.tenant_id != self._expect_tenant:
            raise EnvelopeError("the archive belongs to another tenant")
        if self._expect_backup is not None and header.backup_id != self._expect_backup:
            raise EnvelopeError("the archive belongs to another backup")
        self.header = header
        self._header_digest = hashlib.sha256(raw).digest()
        self._aead = AESGCM(_data_key(self._key, header.salt))
        return True

    def _open(self, sealed: bytes) -> Iterator[bytes]:
        assert self._aead is not None
        plaintext = None
        for final in (False, True):
            nonce, aad = _nonce_and_aad(self._header_digest, self._counter, final)
            try:
                plaintext = self._aead.decrypt(nonce, sealed, aad)
            except InvalidTag:
                continue
            self._final_seen = final
            break
        if plaintext is None:
            raise EnvelopeError(
                f"record {self._counter} fails authentication (damaged, reordered, or sealed "
                "with another key)")
        self._counter += 1
        return self._inflate(plaintext)

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        decompressor = self._decompressor
        try:
            piece = decompressor.decompress(data, MAX_PIECE)
            while True:
                if piece:
                    yield piece
                if not decompressor.unconsumed_tail:
                    break
                piece = decompressor.decompress(decompressor.unconsumed_tail, MAX_PIECE)
        except zlib.error as error:
            raise EnvelopeError(f"the compressed payload is damaged ({error})") from None
        if self._decompressor.unused_data:
            raise EnvelopeError("the archive has data after its compressed payload")


def seal_archive(tenant_key_: bytes, header: Header, dump: Iterable[bytes]) -> bytes:
    """Return a whole archive in memory (tests and small payloads)."""
    writer = ArchiveWriter(tenant_key_, header)
    parts = [writer.update(chunk) for chunk in dump]
    parts.append(writer.finish())
    return b"".join(parts)


def open_archive(tenant_key_: bytes, archive: Iterable[bytes], **expect: str) -> bytes:
    """Return the dump of a whole archive in memory (tests and small payloads)."""
    reader = ArchiveReader(tenant_key_, **expect)
    parts = [piece for chunk in archive for piece in reader.update(chunk)]
    parts.extend(reader.finish())
    return b"".join(parts)


# --- the dump -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyStart:
    """A table's rows follow, in COPY text format, for these columns."""

    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CopyData:
    """Complete rows (newline-terminated lines) of the current table."""

    data: bytes
    rows: int


@dataclass(frozen=True)
class CopyEnd:
    """The current table's rows are complete."""

    table: str
    rows: int


@dataclass(frozen=True)
class SetSequence:
    """Set a sequence of the schema, as `setval(name, value, is_called)`."""

    sequence: str
    value: int
    is_called: bool


DumpEvent = CopyStart | CopyData | CopyEnd | SetSequence

# Statements of a data-only dump that set up pg_dump's own session and carry no data.
_IGNORED_PREFIXES = (b"--", b"SET ", b"SELECT pg_catalog.set_config(", b"\\restrict ",
                     b"\\unrestrict ")
_SETVAL = b"SELECT pg_catalog.setval("
_TERMINATOR = b"\\.\n"


@dataclass
class TableManifest:
    """What a backup holds of one table."""

    name: str
    columns: list[str]
    rows: int = 0


@dataclass
class Manifest:
    """The tables, row counts and sequences of a dump, stored in the backup catalogue."""

    tables: list[TableManifest] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    _current: TableManifest | None = field(default=None, repr=False, compare=False)

    @property
    def rows(self) -> int:
        """Return the total number of rows in the dump."""
        return sum(table.rows for table in self.tables)

    def to_json(self) -> dict[str, object]:
        """Return the manifest as a JSON-ready dict."""
        return {"rows": self.rows, "sequences": self.sequences,
                "tables": [{"name": t.name, "columns": t.columns, "rows": t.rows}
                           for t in self.tables]}

    def add(self, event: DumpEvent) -> None:
        """Record one parser event (a table may come in several blocks, one per partition)."""
        if isinstance(event, CopyStart):
            self._current = next((t for t in self.tables if t.name == event.table), None)
            if self._current is None:
                self._current = TableManifest(event.table, list(event.columns))
                self.tables.append(self._current)
        elif isinstance(event, CopyData) and self._current is not None:
            self._current.rows += event.rows
        elif isinstance(event, SetSequence):
            self.sequences[event.sequence] = event.value


class DumpParser:
    """Read the plain output of `pg_dump --data-only --schema=<schema>` as events.

    Fed arbitrary pieces of the dump; rows are passed through untouched (their COPY text
    encoding is exact for every type), cut only at line ends. Any statement that is neither
    rows, a sequence value nor session set-up is refused, so nothing is silently dropped.
    """

    def __init__(self, schema: str) -> None:
        self._schema = schema
        self._buffer = bytearray()
        self._table: str | None = None
        self._rows = 0

    def feed(self, data: bytes) -> list[DumpEvent]:
        """Take more dump bytes; return the events they complete."""
        self._buffer += data
        events: list[DumpEvent] = []
        while self._buffer:
            if self._table is not None:
                if not self._copy_rows(events):
                    break
                continue
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            event = self._statement(line)
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> None:
        """Check that the dump ended cleanly, outside any table's rows."""
        if self._table is not None:
            raise DumpFormatError(f"the dump ends inside the rows of {self._table}")
        if self._buffer.strip():
            raise DumpFormatError("the dump ends with an incomplete statement")

    def _copy_rows(self, events: list[DumpEvent]) -> bool:
        """Emit rows of the current table up to its terminator; return whether it ended."""
        buffer = self._buffer
        if buffer.startswith(_TERMINATOR):
            end = 0
        else:
            found = buffer.find(b"\n" + _TERMINATOR)
            end = found + 1 if found >= 0 else -1
        if end < 0:
            cut = buffer.rfind(b"\n") + 1  # complete lines only; a terminator may be split
            if cut:
                self._emit_rows(bytes(buffer[:cut]), events)
                del buffer[:cut]
            return False
        if end:
            self._emit_rows(bytes(buffer[:end]), events)
        del buffer[:end + len(_TERMINATOR)]
        assert self._table is not None
        events.append(CopyEnd(self._table, self._rows))
        self._table, self._rows = None, 0
        return True

    def _emit_rows(self, data: bytes, events: list[DumpEvent]) -> None:
        rows = data.count(b"\n")
        self._rows += rows
        events.append(CopyData(data, rows))

    def _statement(self, line: bytes) -> DumpEvent | None:
        if not line.strip() or line.startswith(_IGNORED_PREFIXES):
            return None
        text = line.decode()
        if line.startswith(b"COPY "):
            table, columns = parse_copy_header(text, self._schema)
            self._table, self._rows = table, 0
            return CopyStart(table, columns)
        if line.startswith(_SETVAL):
            return parse_setval(text, self._schema)
        raise DumpFormatError(f"unexpected statement in the dump: {text[:80]!r}")


def _identifier(text: str, pos: int) -> tuple[str, int]:
    """Parse one SQL identifier at `pos` (quoted or not); return it and the next position."""
    if text.startswith('"', pos):
        out, pos = [], pos + 1
        while True:
            end = text.find('"', pos)
            if end < 0:
                raise DumpFormatError(f"unterminated quoted identifier in {text[:80]!r}")
            out.append(text[pos:end])
            if text.startswith('""', end):
                out.append('"')
                pos = end + 2
                continue
            return "".join(out), end + 1
    start = pos
    while pos < len(text) and (text[pos].isalnum() or text[pos] in "_$"):
        pos += 1
    if pos == start:
        raise DumpFormatError(f"expected an identifier at {text[start:start + 20]!r}")
    return text[start:pos], pos


def _qualified(text: str, pos: int, schema: str) -> tuple[str, int]:
    found, pos = _identifier(text, pos)
    if not text.startswith(".", pos):
        raise DumpFormatError(f"expected a schema-qualified name in {text[:80]!r}")
    if found != schema:
        raise DumpFormatError(f"the dump names schema {found!r}, not {schema!r}")
    return _identifier(text, pos + 1)


def parse_copy_header(line: str, schema: str) -> tuple[str, tuple[str, ...]]:
    """Return the table and columns of `COPY <schema>.<table> (<columns>) FROM stdin;`."""
    table, pos = _qualified(line, len("COPY "), schema)
    columns: list[str] = []
    rest = line[pos:].lstrip()
    if rest.startswith("("):
        pos = line.index("(", pos) + 1
        while True:
            while line.startswith(" ", pos):
                pos += 1
            column, pos = _identifier(line, pos)
            columns.append(column)
            if line.startswith(", ", pos):
                pos += 2
                continue
            if not line.startswith(")", pos):
                raise DumpFormatError(f"malformed column list in {line[:80]!r}")
            rest = line[pos + 1:].lstrip()
            break
    if rest != "FROM stdin;":
        raise DumpFormatError(f"unexpected COPY statement {line[:80]!r}")
    return table, tuple(columns)


def parse_setval(line: str, schema: str) -> SetSequence:
    """Return the sequence and value of `SELECT pg_catalog.setval('<s>.<seq>', N, bool);`."""
    body = line[len(_SETVAL.decode()):]
    if not body.startswith("'"):
        raise DumpFormatError(f"unexpected setval statement {line[:80]!r}")
    end, pos = None, 1
    while end is None:
        quote = body.find("'", pos)
        if quote < 0:
            raise DumpFormatError(f"unterminated literal in {line[:80]!r}")
        if body.startswith("''", quote):
            pos = quote + 2
        else:
            end = quote
    name = body[1:end].replace("''", "'")
    sequence, after = _qualified(name, 0, schema)
    if after != len(name):
        raise DumpFormatError(f"unexpected sequence name in {line[:80]!r}")
    parts = [part.strip() for part in body[end + 1:].removesuffix(");").split(",")]
    if len(parts) != 3 or parts[0] or parts[2] not in ("true", "false"):
        raise DumpFormatError(f"unexpected setval statement {line[:80]!r}")
    try:
        value = int(parts[1])
    except ValueError:
        raise DumpFormatError(f"unexpected setval value in {line[:80]!r}") from None
    return SetSequence(sequence, value, parts[2] == "true")


def rewrite_column(data: bytes, index: int, old: bytes, new: bytes) -> bytes:
    """Return COPY text rows with field `index` replaced by `new` wherever it equals `old`.

    Field separators and line ends inside values are escaped in COPY text format, so splitting
    on raw tabs and newlines is exact.
    """
    lines = data.split(b"\n")
    for number, line in enumerate(lines):
        if not line:
            continue
        fields = line.split(b"\t")
        if index < len(fields) and fields[index] == old:
            fields[index] = new
            lines[number] = b"\t".join(fields)
    return b"\n".join(lines)
