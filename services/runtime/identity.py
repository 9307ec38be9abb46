"""The caller's identity and request id for the current RPC, carried in context variables.

The edge verifies tokens and forwards the verified claims as `x-tradesage-*` metadata after
stripping any such header a client sent; apps listen on loopback behind their sidecar, so the
metadata can only have come through the mesh.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from services.runtime.errors import Unauthenticated

USER_ID_KEY = "x-tradesage-user-id"
TENANT_ID_KEY = "x-tradesage-tenant-id"
ROLES_KEY = "x-tradesage-roles"
SESSION_ID_KEY = "x-tradesage-session-id"
REQUEST_ID_KEY = "x-request-id"
# Set by the inbound sidecar from the verified client certificate (SANITIZE_SET).
FORWARDED_CLIENT_CERT_KEY = "x-forwarded-client-cert"
EDGE_PEER = "edge"
# The address the edge saw the client connect from (set by the edge, never by clients).
CLIENT_IP_KEY = "x-tradesage-client-ip"
IDENTITY_KEYS = (USER_ID_KEY, TENANT_ID_KEY, ROLES_KEY, SESSION_ID_KEY)
# Every header only the edge may set; it removes any a client sends.
EDGE_SET_KEYS = (*IDENTITY_KEYS, CLIENT_IP_KEY)


@dataclass(frozen=True)
class Identity:
    """A verified caller: who, in which tenant, with which roles, from which session."""

    user_id: str
    tenant_id: str
    roles: tuple[str, ...] = ()
    session_id: str = ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Return the metadata that forwards this identity to another service."""
        return (
            (USER_ID_KEY, self.user_id),
            (TENANT_ID_KEY, self.tenant_id),
            (ROLES_KEY, ",".join(self.roles)),
            (SESSION_ID_KEY, self.session_id),
        )


def peer_name(forwarded_client_cert: str) -> str:
    """Return the service name in the SPIFFE URI of an `x-forwarded-client-cert` header.

    The inbound sidecar sets the header (SANITIZE_SET) from the verified client certificate,
    as `By=...;Hash=...;URI=spiffe://<trust domain>/<name>`; the last element is the caller.
    """
    last = forwarded_client_cert.rsplit(",", 1)[-1]
    for pair in last.split(";"):
        key, _, value = pair.strip().partition("=")
        uri = value.strip('"')
        if key.lower() == "uri" and uri.startswith("spiffe://"):
            _trust_domain, _, path = uri.removeprefix("spiffe://").strip("/").partition("/")
            return path.rsplit("/", 1)[-1]
    return ""


def peer_from_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> str:
    """Return the mesh service that sent this call, or "" when it did not come via a sidecar."""
    for key, value in metadata:
        if key == FORWARDED_CLIENT_CERT_KEY and isinstance(value, str):
            return peer_name(value)
    return ""


_identity: ContextVar[Identity | None] = ContextVar("tradesage_identity", default=None)
_request_id: ContextVar[str] = ContextVar("tradesage_request_id", default="")


def identity_from_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> Identity | None:
    """Read the forwarded identity, or None when the call carries none."""
    values = {key: value for key, value in metadata if isinstance(value, str)}
    user_id, tenant_id = values.get(USER_ID_KEY, ""), values.get(TENANT_ID_KEY, "")
    if not user_id or not tenant_id:
        return None
    roles = tuple(r for r in values.get(ROLES_KEY, "").split(",") if r)
    return Identity(user_id, tenant_id, roles, values.get(SESSION_ID_KEY, ""))


def current_identity() -> Identity | None:
    """Return the caller of the current RPC, if it carried an identity."""
    return _identity.get()


def require_identity() -> Identity:
    """Return the caller of the current RPC, or fail with UNAUTHENTICATED."""
    identity = _identity.get()
    if identity is None:
        raise Unauthenticated("this call needs a signed-in user", reason="UNAUTHENTICATED")
    return identity


def current_request_id() -> str:
    """Return the request id of the current RPC ("" outside one)."""
    return _request_id.get()


def bind(identity: Identity | None, request_id: str) -> tuple[object, object]:
    """Set the identity and request id for this task; return tokens for `unbind`."""
    return _identity.set(identity), _request_id.set(request_id)


def unbind(tokens: tuple[object, object]) -> None:
    """Restore the context variables set by `bind`."""
    identity_token, request_token = tokens
    _identity.reset(identity_token)  # type: ignore[arg-type]
    _request_id.reset(request_token)  # type: ignore[arg-type]
