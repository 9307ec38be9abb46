"""Generate Python stubs, the descriptor set and the OpenAPI document from the protos.

Usage:
    codegen.py                  regenerate generated/ from proto/
    codegen.py --check          exit 1 and list the stale files if generated/ is out of date
    codegen.py --proto-dir DIR --out-dir DIR   work on another tree (the tests use a copy)

Everything is rendered into a temporary directory first, so a failed protoc run never leaves
generated/ half-written and --check compares exactly what a regeneration would write.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from edge.openapi import build_openapi  # noqa: E402  (needs ROOT on sys.path first)

# Only our own protos get Python code; googleapis-common-protos provides google.api/google.rpc.
CODE_ROOT = "tradesage"
# Envoy's transcoder needs these in the descriptor set to render error details.
DESCRIPTOR_EXTRAS = ("google/rpc/error_details.proto", "google/rpc/status.proto")
DESCRIPTOR_FILE = "descriptors.binpb"
OPENAPI_FILE = "openapi.json"
# Byproducts of importing or testing the generated code; never compared or deleted.
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache"})


def wkt_include_dir() -> Path:
    """Return grpc_tools' directory of well-known types (google/protobuf/*.proto)."""
    return Path(protoc.__file__).resolve().parent / "_proto"


def mypy_grpc_plugin() -> Path:
    """Locate mypy-protobuf's protoc-gen-mypy_grpc beside the running interpreter."""
    candidate = Path(sys.executable).parent / "protoc-gen-mypy_grpc"
    if candidate.exists():
        return candidate
    found = shutil.which("protoc-gen-mypy_grpc")
    if found is None:
        raise SystemExit("protoc-gen-mypy_grpc not found; install mypy-protobuf")
    return Path(found)


def find_protos(proto_dir: Path) -> list[str]:
    """List the project's .proto files relative to proto_dir, sorted for stable output."""
    return sorted(
        p.relative_to(proto_dir).as_posix() for p in (proto_dir / CODE_ROOT).rglob("*.proto")
    )


@contextlib.contextmanager
def redirected_stderr(sink: BinaryIO) -> Iterator[None]:
    """Point file descriptor 2 at sink; protoc and its plugin processes write there directly."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_protoc(proto_dir: Path, args: Iterable[str]) -> None:
    """Run protoc in-process; show its output only on failure (the mypy plugin chatters)."""
    argv = ["grpc_tools.protoc", f"-I{proto_dir}", f"-I{wkt_include_dir()}", *args]
    with tempfile.TemporaryFile() as sink:
        with redirected_stderr(sink):
            status = protoc.main(argv)
        if status != 0:
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise SystemExit(f"protoc failed: {' '.join(argv[1:])}")


def generate_code(proto_dir: Path, out_dir: Path, protos: list[str]) -> None:
    """Write *_pb2.py(i) and *_pb2_grpc.py(i) for every project proto."""
    run_protoc(
        proto_dir,
        [
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            f"--plugin=protoc-gen-mypy_grpc={mypy_grpc_plugin()}",
            f"--mypy_grpc_out={out_dir}",
            *protos,
        ],
    )


def generate_descriptor_set(proto_dir: Path, out_dir: Path, protos: list[str]) -> bytes:
    """Write the self-contained FileDescriptorSet used by Envoy and the OpenAPI builder."""
    target = out_dir / DESCRIPTOR_FILE
    run_protoc(
        proto_dir,
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={target}",
            *protos,
            *DESCRIPTOR_EXTRAS,
        ],
    )
    return target.read_bytes()


def prune_empty_grpc_modules(out_dir: Path, descriptor_set: bytes) -> None:
    """Drop the *_pb2_grpc modules grpc_tools writes for protos without services."""
    for file in descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file:
        if file.name.startswith(f"{CODE_ROOT}/") and not file.service:
            stem = out_dir / file.name.removesuffix(".proto")
            for suffix in ("_pb2_grpc.py", "_pb2_grpc.pyi"):
                stem.with_name(stem.name + suffix).unlink(missing_ok=True)


def write_init_files(package_root: Path) -> None:
    """Make every generated directory a regular package so imports never hit namespace lookup."""
    for directory in [package_root, *sorted(p for p in package_root.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").write_bytes(b"")


def write_openapi(descriptor_set: bytes, out_dir: Path) -> None:
    """Render the OpenAPI document with stable key order and a trailing newline."""
    document = build_openapi(descriptor_set)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (out_dir / OPENAPI_FILE).write_text(text, encoding="utf-8")


def render(proto_dir: Path, work_dir: Path) -> dict[str, bytes]:
    """Generate everything into work_dir and return it as {relative path: content}."""
    protos = find_protos(proto_dir)
    if not protos:
        raise SystemExit(f"no protos under {proto_dir / CODE_ROOT}")
    generate_code(proto_dir, work_dir, protos)
    descriptor_set = generate_descriptor_set(proto_dir, work_dir, protos)
    prune_empty_grpc_modules(work_dir, descriptor_set)
    write_init_files(work_dir / CODE_ROOT)
    write_openapi(descriptor_set, work_dir)
    return read_tree(work_dir)


def read_tree(directory: Path) -> dict[str, bytes]:
    """Read all files under directory, skipping caches, keyed by POSIX relative path."""
    files: dict[str, bytes] = {}
    if not directory.is_dir():
        return files
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and not IGNORED_PARTS.intersection(relative.parts):
            files[relative.as_posix()] = path.read_bytes()
    return files


def stale_files(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    """Describe every file that differs, is missing from, or is extra in the output tree."""
    problems = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            problems.append(f"missing: {name}")
        elif name not in expected:
            problems.append(f"extra:   {name}")
        elif expected[name] != actual[name]:
            problems.append(f"stale:   {name}")
    return problems


def sync_tree(expected: dict[str, bytes], out_dir: Path) -> int:
    """Make out_dir hold exactly the expected files; return how many files changed."""
    actual = read_tree(out_dir)
    for name in sorted(actual.keys() - expected.keys()):
        (out_dir / name).unlink()
    for name, content in expected.items():
        if actual.get(name) != content:
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    remove_empty_dirs(out_dir)
    return len(stale_files(expected, actual))


def remove_empty_dirs(directory: Path) -> None:
    """Delete directories left empty after stale files were removed, deepest first."""
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the output tree is stale")
    parser.add_argument("--proto-dir", type=Path, default=ROOT / "proto")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "generated")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Generate or check the output tree; return the process exit code."""
    args = parse_args(argv)
    proto_dir, out_dir = args.proto_dir.resolve(), args.out_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="codegen-") as work:
        expected = render(proto_dir, Path(work))
    if args.check:
        problems = stale_files(expected, read_tree(out_dir))
        for problem in problems:
            print(problem)
        if problems:
            print(f"{out_dir} is out of date; run `make generate`", file=sys.stderr)
            return 1
        print(f"{out_dir} is up to date ({len(expected)} files)")
        return 0
    changed = sync_tree(expected, out_dir)
    print(f"wrote {out_dir} ({len(expected)} files, {changed} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
