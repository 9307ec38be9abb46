"""Channels to other services, always through this app's own sidecar.

The app speaks plaintext HTTP/2 to its sidecar's outbound listener on loopback; the sidecar
picks the peer by the :authority header and carries the call over mTLS. The app never holds
a certificate and never learns where a peer runs.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

from services.runtime import identity
from services.runtime.errors import DomainError, FieldViolation, Unavailable


class Peers:
    """Lazily opened, cached channels to named peer services."""

    def __init__(self, outbound_address: str) -> None:
        self._outbound = outbound_address
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, peer: str) -> grpc.aio.Channel:
        """Return the channel to `peer` (a service name of the topology)."""
        if not self._outbound:
            raise Unavailable(f"no mesh outbound configured to reach {peer}",
                              reason="MESH_NOT_CONFIGURED", metadata={"peer": peer})
        if peer not in self._channels:
            self._channels[peer] = grpc.aio.insecure_channel(
                self._outbound, options=[("grpc.default_authority", peer)])
        return self._channels[peer]

    async def close(self) -> None:
        """Close every open channel."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


def call_metadata() -> tuple[tuple[str, str], ...]:
    """Return metadata that carries the current request id and caller to a peer."""
    metadata: list[tuple[str, str]] = []
    if request_id := identity.current_request_id():
        metadata.append((identity.REQUEST_ID_KEY, request_id))
    if caller := identity.current_identity():
        metadata.extend(caller.metadata())
    return tuple(metadata)


class PeerError(DomainError):
    """A peer's failure, passed on with the peer's code, ErrorInfo and field violations."""

    def __init__(self, status: str, message: str, reason: str, metadata: dict[str, str],
                 violations: list[FieldViolation]) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.status = status
        self.violations = violations


def peer_error(error: grpc.aio.AioRpcError) -> PeerError:
    """Return the domain error that re-raises a failed call to a peer for our own caller."""
    reason, metadata, violations = error.code().name, {}, []
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        for detail in status_pb2.Status.FromString(value).details:
            info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason, metadata = info.reason, dict(info.metadata)
            elif detail.Unpack(bad_request):
                violations = [FieldViolation(v.field, v.description, v.reason)
                              for v in bad_request.field_violations]
    return PeerError(error.code().name, error.details() or "", reason, metadata, violations)
