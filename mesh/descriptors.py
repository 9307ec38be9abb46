"""Facts the proxies need from the compiled contracts (`generated/descriptors.binpb`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2

REPO_ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR_SET = REPO_ROOT / "generated" / "descriptors.binpb"


@cache
def _load(path: Path) -> descriptor_pb2.FileDescriptorSet:
    return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


def streaming_paths(grpc_service: str, path: Path = DESCRIPTOR_SET) -> tuple[str, ...]:
    """Return the HTTP/2 paths of `grpc_service`'s server-streaming methods.

    Proxies give these routes no timeout: a price stream lives as long as its client.
    """
    package, _, name = grpc_service.rpartition(".")
    return tuple(
        f"/{grpc_service}/{method.name}"
        for file in _load(path).file if file.package == package
        for service in file.service if service.name == name
        for method in service.method if method.server_streaming
    )
