"""The backup archive format: keys, the sealed chunk envelope, and the dump parser."""

from __future__ import annotations

import base64
import os
import struct
import uuid
import zlib

import pytest

from services.tenant.domain.backup_format import (
    MAGIC,
    ArchiveReader,
    CopyData,
    CopyEnd,
    CopyStart,
    DumpFormatError,
    DumpParser,
    EnvelopeError,
    Header,
    Manifest,
    SetSequence,
    decode_master_key,
    open_archive,
    parse_copy_header,
    parse_setval,
    rewrite_column,
    seal_archive,
    sha256_hex,
    tenant_key,
)

MASTER = bytes(range(32))
TENANT = str(uuid.UUID(int=1))
OTHER = str(uuid.UUID(int=2))
BACKUP = str(uuid.UUID(int=3))
SCHEMA = "tenant_abc"


def _header(chunk_size: int = 64) -> Header:
    return Header(backup_id=BACKUP, tenant_id=TENANT, schema=SCHEMA,
                  created="2026-11-27T03:00:00+00:00", salt=os.urandom(16),
                  chunk_size=chunk_size)


def _records(archive: bytes) -> tuple[bytes, list[bytes]]:
    """Split an archive into its header bytes and its length-prefixed records."""
    (length,) = struct.unpack_from(">I", archive, 5)
    header_end = 9 + length
    records, pos = [], header_end
    while pos < len(archive):
        (size,) = struct.unpack_from(">I", archive, pos)
        records.append(archive[pos:pos + 4 + size])
        pos += 4 + size
    return archive[:header_end], records


def _payload(size: int = 5000) -> bytes:
    # Incompressible, so the archive has many records of a small chunk size.
    return os.urandom(size)


KEY = tenant_key(MASTER, TENANT)


def test_round_trip_in_arbitrary_pieces():
    payload = _payload(20_000) + b"row\t1\n" * 1000
    pieces = [payload[i:i + 777] for i in range(0, len(payload), 777)]
    archive = seal_archive(KEY, _header(), pieces)
    assert archive.startswith(MAGIC)
    # Fed one byte at a time, the reader still gives back exactly the payload.
    reader = ArchiveReader(KEY, tenant_id=TENANT, backup_id=BACKUP)
    out = b"".join(piece for i in range(len(archive)) for piece in reader.update(
        archive[i:i + 1]))
    reader.finish()
    assert out == payload
    assert open_archive(KEY, [archive], tenant_id=TENANT) == payload


def test_empty_payload_still_has_a_final_record():
    archive = seal_archive(KEY, _header(), [])
    _, records = _records(archive)
    assert len(records) == 1
    assert open_archive(KEY, [archive]) == b""


def test_records_are_cut_at_the_chunk_size():
    archive = seal_archive(KEY, _header(chunk_size=100), [_payload(1000)])
    _, records = _records(archive)
    assert len(records) > 5
    assert all(len(record) == 4 + 100 + 16 for record in records[:-1])


@pytest.mark.parametrize("position", [0, 5, 20, 200, -40, -1])
def test_any_flipped_byte_is_detected(position):
    archive = bytearray(seal_archive(KEY, _header(), [_payload()]))
    archive[position] ^= 0x01
    with pytest.raises(EnvelopeError):
        open_archive(KEY, [bytes(archive)], tenant_id=TENANT, backup_id=BACKUP)


def test_truncation_at_a_record_boundary_is_detected():
    archive = seal_archive(KEY, _header(), [_payload()])
    header, records = _records(archive)
    assert len(records) > 2
    with pytest.raises(EnvelopeError, match="truncated"):
        open_archive(KEY, [header + b"".join(records[:-1])])


def test_truncation_inside_a_record_is_detected():
    archive = seal_archive(KEY, _header(), [_payload()])
    with pytest.raises(EnvelopeError):
        open_archive(KEY, [archive[:-7]])


def test_reordered_records_are_detected():
    archive = seal_archive(KEY, _header(), [_payload()])
    header, records = _records(archive)
    records[1], records[2] = records[2], records[1]
    with pytest.raises(EnvelopeError, match="authentication"):
        open_archive(KEY, [header + b"".join(records)])


def test_dropped_and_repeated_records_are_detected():
    archive = seal_archive(KEY, _header(), [_payload()])
    header, records = _records(archive)
    with pytest.raises(EnvelopeError):
        open_archive(KEY, [header + b"".join(records[:1] + records[2:])])
    with pytest.raises(EnvelopeError):
        open_archive(KEY, [header + b"".join(records[:1] + records)])


def test_data_after_the_final_record_is_detected():
    archive = seal_archive(KEY, _header(), [_payload()])
    with pytest.raises(EnvelopeError, match="after its final record"):
        open_archive(KEY, [archive + b"\0\0\0\x10" + bytes(16)])


def test_swapping_in_another_archives_records_is_detected():
    first = seal_archive(KEY, _header(), [_payload()])
    second = seal_archive(KEY, _header(), [_payload()])
    header, _ = _records(first)
    _, records = _records(second)
    with pytest.raises(EnvelopeError):
        open_archive(KEY, [header + b"".join(records)])


def test_a_rewritten_header_fails_authentication():
    archive = seal_archive(KEY, _header(), [_payload()])
    header_bytes, records = _records(archive)
    forged = Header.decode(header_bytes[9:])
    forged = Header(backup_id=str(uuid.uuid4()), tenant_id=forged.tenant_id,
                    schema=forged.schema, created=forged.created, salt=forged.salt,
                    chunk_size=forged.chunk_size)
    with pytest.raises(EnvelopeError, match="authentication"):
        open_archive(KEY, [forged.encode() + b"".join(records)])


def test_another_tenants_key_is_refused():
    archive = seal_archive(KEY, _header(), [_payload()])
    with pytest.raises(EnvelopeError, match="authentication"):
        open_archive(tenant_key(MASTER, OTHER), [archive])
    with pytest.raises(EnvelopeError, match="another tenant"):
        open_archive(tenant_key(MASTER, OTHER), [archive], tenant_id=OTHER)
    with pytest.raises(EnvelopeError, match="another backup"):
        open_archive(KEY, [archive], backup_id=str(uuid.uuid4()))


def test_another_master_key_is_refused():
    archive = seal_archive(KEY, _header(), [_payload()])
    with pytest.raises(EnvelopeError):
        open_archive(tenant_key(os.urandom(32), TENANT), [archive])


def test_not_an_archive():
    with pytest.raises(EnvelopeError, match="not a TradeSage backup"):
        open_archive(KEY, [b"PGDMP" + bytes(100)])
    with pytest.raises(EnvelopeError, match="inside its header"):
        open_archive(KEY, [MAGIC])


def test_hkdf_keys_differ_per_tenant_and_master_and_are_stable():
    assert tenant_key(MASTER, TENANT) == tenant_key(MASTER, TENANT.upper())
    assert tenant_key(MASTER, TENANT) != tenant_key(MASTER, OTHER)
    assert tenant_key(MASTER, TENANT) != tenant_key(bytes(32), TENANT)
    assert len(tenant_key(MASTER, TENANT)) == 32
    with pytest.raises(ValueError):
        tenant_key(b"short", TENANT)


def test_each_archive_uses_a_fresh_salt():
    payload = b"same rows\n" * 100
    assert seal_archive(KEY, _header(), [payload]) != seal_archive(KEY, _header(), [payload])


def test_compression_is_applied():
    payload = b"1\t00000000-0000-0000-0000-000000000001\tAAPL\t100\n" * 5000
    archive = seal_archive(KEY, _header(chunk_size=1 << 20), [payload])
    assert len(archive) < len(payload) // 10
    assert zlib.decompress(zlib.compress(payload)) == payload  # sanity of the baseline


def test_master_key_decoding():
    raw = os.urandom(32)
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert decode_master_key(encoded) == raw
    for bad in ("", "abc", base64.urlsafe_b64encode(os.urandom(16)).decode(), "!!!"):
        with pytest.raises(ValueError):
            decode_master_key(bad)


def test_sha256_hex():
    assert sha256_hex([b"a", b"bc"]) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


DUMP = b'''--
-- PostgreSQL database dump
--

\\restrict abc123

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

COPY tenant_abc.portfolios (id, tenant_id, name) FROM stdin;
1\t00000000-0000-0000-0000-000000000001\tmain
2\t00000000-0000-0000-0000-000000000001\ttab\\there
\\.


COPY tenant_abc."Odd ""Name""" (id, "Mixed Case", tenant_id) FROM stdin;
\\.


COPY tenant_abc.orders (id, tenant_id, note) FROM stdin;
7\t00000000-0000-0000-0000-000000000001\t\\\\.
8\t00000000-0000-0000-0000-000000000009\tother tenant id stays
\\.


SELECT pg_catalog.setval('tenant_abc.orders_id_seq', 8, true);
SELECT pg_catalog.setval('tenant_abc."it''s ""seq"""', 1, false);

\\unrestrict abc123
'''


def _parse(dump: bytes, step: int) -> list:
    parser = DumpParser(SCHEMA)
    events = [e for i in range(0, len(dump), step) for e in parser.feed(dump[i:i + step])]
    parser.finish()
    return events


@pytest.mark.parametrize("step", [1, 3, 17, 10_000])
def test_dump_parser_events_do_not_depend_on_how_the_dump_is_cut(step):
    events = _parse(DUMP, step)
    starts = [e for e in events if isinstance(e, CopyStart)]
    assert starts == [
        CopyStart("portfolios", ("id", "tenant_id", "name")),
        CopyStart('Odd "Name"', ("id", "Mixed Case", "tenant_id")),
        CopyStart("orders", ("id", "tenant_id", "note")),
    ]
    ends = [e for e in events if isinstance(e, CopyEnd)]
    assert [(e.table, e.rows) for e in ends] == [("portfolios", 2), ('Odd "Name"', 0),
                                                 ("orders", 2)]
    data = b"".join(e.data for e in events if isinstance(e, CopyData))
    assert data == (b"1\t00000000-0000-0000-0000-000000000001\tmain\n"
                    b"2\t00000000-0000-0000-0000-000000000001\ttab\\there\n"
                    b"7\t00000000-0000-0000-0000-000000000001\t\\\\.\n"
                    b"8\t00000000-0000-0000-0000-000000000009\tother tenant id stays\n")
    assert [e for e in events if isinstance(e, SetSequence)] == [
        SetSequence("orders_id_seq", 8, True), SetSequence('it\'s "seq"', 1, False)]
    manifest = Manifest()
    for event in events:
        manifest.add(event)
    assert manifest.rows == 4
    assert manifest.to_json()["tables"][0] == {
        "name": "portfolios", "columns": ["id", "tenant_id", "name"], "rows": 2}


def test_dump_parser_refuses_what_it_cannot_restore():
    with pytest.raises(DumpFormatError, match="unexpected statement"):
        DumpParser(SCHEMA).feed(b"CREATE TABLE tenant_abc.x (id int);\n")
    with pytest.raises(DumpFormatError, match="not 'tenant_abc'"):
        DumpParser(SCHEMA).feed(b"COPY public.x (id) FROM stdin;\n")
    parser = DumpParser(SCHEMA)
    parser.feed(b"COPY tenant_abc.x (id) FROM stdin;\n1\n")
    with pytest.raises(DumpFormatError, match="ends inside the rows"):
        parser.finish()


def test_copy_header_and_setval_parsing():
    assert parse_copy_header("COPY tenant_abc.empty  FROM stdin;", SCHEMA) == ("empty", ())
    with pytest.raises(DumpFormatError):
        parse_copy_header("COPY tenant_abc.t (a, b FROM stdin;", SCHEMA)
    assert parse_setval("SELECT pg_catalog.setval('tenant_abc.s', -5, true);", SCHEMA) == (
        SetSequence("s", -5, True))
    with pytest.raises(DumpFormatError):
        parse_setval("SELECT pg_catalog.setval('tenant_abc.s', x, true);", SCHEMA)


def test_rewrite_column_touches_only_that_field_when_it_matches():
    old, new = b"00000000-0000-0000-0000-000000000001", b"00000000-0000-0000-0000-00000000000f"
    rows = (b"1\t" + old + b"\t" + old + b"\n"
            b"2\t00000000-0000-0000-0000-000000000009\tx\n"
            b"3\t" + old + b"\ta\\tb\n")
    assert rewrite_column(rows, 1, old, new) == (
        b"1\t" + new + b"\t" + old + b"\n"
        b"2\t00000000-0000-0000-0000-000000000009\tx\n"
        b"3\t" + new + b"\ta\\tb\n")
