"""The server interceptor every service runs: identity binding, error mapping, call logging."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import grpc
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.runtime import identity
from services.runtime.authz import Authorizer
from services.runtime.errors import DomainError
from services.runtime.status import RpcFailure, from_domain_error, from_status

log = logging.getLogger("tradesage.rpc")


SessionCheck = Callable[[identity.Identity], Awaitable[None]]

# A store out of reach (or out of free connections) is an outage to retry, not a bug: callers
# get UNAVAILABLE (HTTP 503 at the edge) instead of INTERNAL.
STORE_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, asyncpg.PostgresConnectionError,
                     asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError,
                     ConnectionError)


class CallInterceptor(grpc.aio.ServerInterceptor):
    """Bind the caller, refuse revoked sessions, map exceptions to rich statuses, log calls.

    `session_check` raises for a session that has ended, so a signed-out user's access tokens
    stop working at once everywhere rather than when they expire.
    """

    def __init__(self, session_check: SessionCheck | None = None,
                 authorizer: Authorizer | None = None) -> None:
        self._guard = _CallGuard(session_check, authorizer or Authorizer(None))

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method, self._guard),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method, self._guard),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client- and bidi-streaming calls are not part of the API.


def _wrap_unary(behavior: Callable[..., Any], method: str,
                guard: _CallGuard) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        tokens, started = _bind(context), time.perf_counter()
        try:
            await guard.admit(method, context)
            return await behavior(request, context)
        except Exception as error:  # every failure becomes a status
            await _abort(context, error, method)
        finally:
            _log_call(method, context, started)
            identity.unbind(tokens)

    return wrapper


def _wrap_stream(behavior: Callable[..., Any], method: str,
                 guard: _CallGuard) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        tokens, started = _bind(context), time.perf_counter()
        try:
            await guard.admit(method, context)
            async for message in behavior(request, context):
                yield message
        except Exception as error:  # every failure becomes a status
            await _abort(context, error, method)
        finally:
            _log_call(method, context, started)
            identity.unbind(tokens)

    return wrapper


class _CallGuard:
    """Admit a call: the caller's session must be live, and an edge call needs permission."""

    def __init__(self, session_check: SessionCheck | None, authorizer: Authorizer) -> None:
        self._session_check = session_check
        self._authorizer = authorizer

    async def admit(self, method: str, context: grpc.aio.ServicerContext) -> None:
        caller = identity.current_identity()
        if self._session_check is not None and caller is not None and caller.session_id:
            await self._session_check(caller)
        # A user's permission is checked where their call enters the mesh; services calling
        # each other on the user's behalf were already admitted by the topology's RBAC.
        peer = identity.peer_from_metadata(context.invocation_metadata() or ())
        if peer == identity.EDGE_PEER:
            await self._authorizer.check(method, caller)


def _bind(context: grpc.aio.ServicerContext) -> tuple[object, object]:
    metadata = tuple(context.invocation_metadata() or ())
    request_id = next((v for k, v in metadata if k == identity.REQUEST_ID_KEY), "")
    return identity.bind(identity.identity_from_metadata(metadata), str(request_id))


async def _abort(context: grpc.aio.ServicerContext, error: Exception, method: str) -> None:
    if isinstance(error, grpc.aio.AbortError):
        raise error
    failure = _failure_for(error, method)
    await context.abort(failure.code, failure.message, failure.trailing_metadata())


def _failure_for(error: Exception, method: str) -> RpcFailure:
    if isinstance(error, DomainError):
        return from_domain_error(error)
    if isinstance(error, NotImplementedError):
        return from_status(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet")
    if isinstance(error, STORE_UNREACHABLE):
        log.warning("store unreachable", extra={"method": method, "error": repr(error),
                                                "request_id": identity.current_request_id()})
        return from_status(grpc.StatusCode.UNAVAILABLE,
                           "a data store is unreachable; retry shortly", reason="STORE_UNAVAILABLE")
    # Unexpected: log the stack trace here, send the caller only an opaque reference.
    request_id = identity.current_request_id()
    log.exception("unhandled error", extra={"method": method, "request_id": request_id})
    return from_status(grpc.StatusCode.INTERNAL, f"internal error (request id {request_id})")


def _log_call(method: str, context: grpc.aio.ServicerContext, started: float) -> None:
    code = context.code() if hasattr(context, "code") else None
    # Sidecars already write an access log line per call; the app adds detail for failures.
    level = logging.DEBUG if code in (None, grpc.StatusCode.OK) else logging.INFO
    if not log.isEnabledFor(level):
        return
    log.log(
        level,
        "rpc",
        extra={
            "method": method,
            "code": getattr(code, "name", "OK") if code is not None else "OK",
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "request_id": identity.current_request_id(),
        },
    )
