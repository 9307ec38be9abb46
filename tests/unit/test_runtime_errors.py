"""Tests for mapping domain errors to gRPC statuses, the edge error body and peer errors."""

import json

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.runtime import errors, status
from services.runtime.errors import FieldViolation, InvalidArgument, NotFound
from services.runtime.interceptors import _failure_for
from services.runtime.peers import PeerError, peer_error


def _unpacked(failure: status.RpcFailure, message_type: type) -> list:
    found = []
    for detail in failure.rich_status.details:
        message = message_type()
        if detail.Unpack(message):
            found.append(message)
    return found


def _error_infos(failure: status.RpcFailure) -> list[error_details_pb2.ErrorInfo]:
    return _unpacked(failure, error_details_pb2.ErrorInfo)


def _edge(failure: status.RpcFailure) -> dict:
    return json.loads(failure.edge_body)


@pytest.mark.parametrize(("error_type", "code"), [
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Aborted, grpc.StatusCode.ABORTED),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.DomainError, grpc.StatusCode.UNKNOWN),
])
def test_domain_error_maps_to_its_status_code(error_type, code):
    failure = status.from_domain_error(error_type("it failed", reason="SOME_REASON"))

    assert failure.code is code
    assert failure.message == "it failed"
    assert failure.rich_status.code == code.value[0]
    assert failure.rich_status.message == "it failed"


def test_rich_status_has_exactly_one_error_info_with_reason_domain_and_metadata():
    error = NotFound("order o-1 does not exist", reason="ORDER_NOT_FOUND",
                     metadata={"orderId": "o-1", "attempt": 3})  # type: ignore[dict-item]

    infos = _error_infos(status.from_domain_error(error))

    assert len(infos) == 1
    assert infos[0].reason == "ORDER_NOT_FOUND"
    assert infos[0].domain == "tradesage.io" == errors.ERROR_DOMAIN
    assert dict(infos[0].metadata) == {"orderId": "o-1", "attempt": "3"}


def test_error_without_violations_has_no_bad_request():
    failure = status.from_domain_error(NotFound("gone", reason="GONE"))

    assert len(failure.rich_status.details) == 1
    assert _unpacked(failure, error_details_pb2.BadRequest) == []


def test_invalid_argument_adds_bad_request_with_every_violation():
    error = InvalidArgument("the order has invalid fields", [
        FieldViolation("quantity", "must be greater than zero", "QUANTITY_POSITIVE"),
        FieldViolation("side", "must be set"),
    ])

    failure = status.from_domain_error(error)

    assert len(_error_infos(failure)) == 1
    assert _error_infos(failure)[0].reason == "INVALID_ARGUMENT"
    [bad_request] = _unpacked(failure, error_details_pb2.BadRequest)
    assert [(v.field, v.description, v.reason) for v in bad_request.field_violations] == [
        ("quantity", "must be greater than zero", "QUANTITY_POSITIVE"),
        ("side", "must be set", ""),
    ]


def test_edge_body_has_reason_message_metadata_and_field_violations():
    error = InvalidArgument("bad symbol", [FieldViolation("symbol", "must not be empty")],
                            reason="SYMBOL_INVALID", metadata={"symbol": ""})

    body = _edge(status.from_domain_error(error))

    assert body == {"error": {
        "code": "SYMBOL_INVALID",
        "message": "bad symbol",
        "details": {
            "symbol": "",
            "fieldViolations": [{"field": "symbol", "description": "must not be empty"}],
        },
    }}


def test_edge_body_details_are_the_error_metadata():
    error = NotFound("tenant t does not exist", reason="TENANT_NOT_FOUND",
                     metadata={"tenantId": "t"})

    assert _edge(status.from_domain_error(error)) == {"error": {
        "code": "TENANT_NOT_FOUND",
        "message": "tenant t does not exist",
        "details": {"tenantId": "t"},
    }}


def test_edge_body_is_printable_ascii_even_for_non_ascii_text():
    message = "Zürich \u2013 東京 \U0001f4c8\nline\t\x00\x7f"
    error = NotFound(message, reason="VENUE_NOT_FOUND", metadata={"venue": "Zürich"})

    failure = status.from_domain_error(error)

    assert all(0x20 <= ord(c) <= 0x7E for c in failure.edge_body), failure.edge_body
    assert _edge(failure)["error"]["message"] == message
    assert _edge(failure)["error"]["details"] == {"venue": "Zürich"}


def test_trailing_metadata_carries_status_details_and_edge_body():
    failure = status.from_domain_error(NotFound("gone", reason="GONE"))

    metadata = dict(failure.trailing_metadata())

    assert metadata["grpc-status-details-bin"] == failure.rich_status.SerializeToString()
    assert metadata[status.EDGE_ERROR_METADATA_KEY] == failure.edge_body
    assert status.EDGE_ERROR_METADATA_KEY == "x-tradesage-error"


def test_from_status_uses_the_code_name_as_reason():
    failure = status.from_status(grpc.StatusCode.INTERNAL, "internal error")

    assert failure.code is grpc.StatusCode.INTERNAL
    assert failure.rich_status.code == 13
    assert list(failure.rich_status.details) == []
    assert _edge(failure) == {"error": {"code": "INTERNAL", "message": "internal error"}}


def test_from_status_keeps_an_explicit_reason():
    failure = status.from_status(grpc.StatusCode.UNIMPLEMENTED, "no such method",
                                 reason="METHOD_NOT_FOUND")

    assert _edge(failure)["error"]["code"] == "METHOD_NOT_FOUND"


def test_require_raises_only_when_violations_were_collected():
    errors.require([])

    violations = [FieldViolation("name", "must not be empty")]
    with pytest.raises(InvalidArgument) as caught:
        errors.require(violations, "bad name")
    assert caught.value.message == "bad name"
    assert caught.value.violations == violations


def _aio_error(failure: status.RpcFailure) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        failure.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*failure.trailing_metadata()),
        failure.message,
    )


def test_peer_error_reconstructs_code_reason_and_metadata():
    failure = status.from_domain_error(errors.FailedPrecondition(
        "insufficient funds", reason="INSUFFICIENT_FUNDS",
        metadata={"accountId": "a-1", "shortfall": "12.50"}))

    error = peer_error(_aio_error(failure))

    assert isinstance(error, PeerError)
    assert error.status == "FAILED_PRECONDITION"
    assert error.message == "insufficient funds"
    assert error.reason == "INSUFFICIENT_FUNDS"
    assert error.metadata == {"accountId": "a-1", "shortfall": "12.50"}


def test_peer_error_passes_on_unchanged_when_mapped_again():
    original = status.from_domain_error(NotFound(
        "symbol ZZZ does not exist", reason="SYMBOL_NOT_FOUND", metadata={"symbols": "ZZZ"}))

    again = status.from_domain_error(peer_error(_aio_error(original)))

    assert again.code is grpc.StatusCode.NOT_FOUND
    assert list(_error_infos(again)) == list(_error_infos(original))
    assert _edge(again) == _edge(original)


def test_peer_error_without_details_uses_the_code_name():
    error = peer_error(grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), None))

    assert (error.status, error.reason, error.metadata, error.message) == (
        "UNAVAILABLE", "UNAVAILABLE", {}, "")


@pytest.mark.parametrize("error", [
    RedisConnectionError("Too many connections"), RedisTimeoutError("read timed out"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"), ConnectionRefusedError()])
def test_an_unreachable_store_is_unavailable_not_internal(error: Exception) -> None:
    failure = _failure_for(error, "/tradesage.trading.v1.TradingService/PlaceOrder")

    assert failure.code is grpc.StatusCode.UNAVAILABLE
    assert _edge(failure)["error"]["code"] == "STORE_UNAVAILABLE"


def test_an_unexpected_error_stays_internal_and_opaque() -> None:
    failure = _failure_for(KeyError("secret detail"), "/x.v1.S/M")

    assert failure.code is grpc.StatusCode.INTERNAL
    assert "secret" not in failure.edge_body
