"""Map failures to gRPC statuses with google.rpc details, in one place for every service.

Each error carries exactly one ErrorInfo (AIP-193) and, for bad input, a BadRequest. The same
error is also rendered once in the edge's JSON shape (DESIGN.md §2) and sent as trailing
metadata, so the edge can answer REST clients without parsing protobuf details itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from services.runtime.errors import ERROR_DOMAIN, DomainError

# Trailing metadata key holding the pre-rendered REST error body; read and removed by the edge.
EDGE_ERROR_METADATA_KEY = "x-tradesage-error"


@dataclass(frozen=True)
class RpcFailure:
    """A failure ready to send: the gRPC status plus its metadata."""

    code: grpc.StatusCode
    message: str
    rich_status: status_pb2.Status
    edge_body: str

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        """Return the trailing metadata carrying the status details and the edge body."""
        return (
            ("grpc-status-details-bin", self.rich_status.SerializeToString()),
            (EDGE_ERROR_METADATA_KEY, self.edge_body),
        )


def from_domain_error(error: DomainError) -> RpcFailure:
    """Build the failure for an expected domain error."""
    code = grpc.StatusCode[error.status]
    details = [_packed(error_details_pb2.ErrorInfo(
        reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata))]
    edge_details: dict[str, object] = dict(error.metadata)
    violations = getattr(error, "violations", ())
    if violations:
        bad_request = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=v.field, description=v.description, reason=v.reason)
            for v in violations
        ])
        details.append(_packed(bad_request))
        edge_details["fieldViolations"] = [
            {"field": v.field, "description": v.description} for v in violations
        ]
    return _failure(code, error.message, error.reason, details, edge_details)


def from_status(code: grpc.StatusCode, message: str, reason: str | None = None) -> RpcFailure:
    """Build a failure for a plain status (internal errors, unimplemented methods)."""
    return _failure(code, message, reason or code.name, [], {})


def _failure(
    code: grpc.StatusCode,
    message: str,
    reason: str,
    details: list[any_pb2.Any],
    edge_details: dict[str, object],
) -> RpcFailure:
    rich = status_pb2.Status(code=_code_number(code), message=message, details=details)
    body: dict[str, object] = {"code": reason, "message": message}
    if edge_details:
        body["details"] = edge_details
    # ensure_ascii keeps the value a legal (printable ASCII) metadata string.
    edge_body = json.dumps({"error": body}, ensure_ascii=True, separators=(",", ":"))
    return RpcFailure(code=code, message=message, rich_status=rich, edge_body=edge_body)


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def _code_number(code: grpc.StatusCode) -> int:
    return int(code_pb2.Code.Value(code.name))
