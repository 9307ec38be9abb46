"""AIP-122 resource names: `collection/{id}`."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.runtime.errors import FieldViolation, InvalidArgument


def resource_id(name: str, collection: str, field: str = "name") -> str:
    """Return the id in `collection/{id}`, or fail with INVALID_ARGUMENT naming `field`."""
    prefix, _, resource = name.partition("/")
    if prefix != collection or not resource or "/" in resource:
        raise InvalidArgument(f"{field} must look like {collection}/{{id}}", [
            FieldViolation(field, f"must look like {collection}/{{id}}")])
    return resource


def uuid_resource_id(name: str, collection: str,
                     not_found: Callable[[str], Exception], field: str = "name") -> str:
    """Return the canonical UUID in `collection/{id}`; an id that is no UUID cannot exist."""
    resource = resource_id(name, collection, field)
    canonical = uuid_or_none(resource)
    if canonical is None:
        raise not_found(resource)
    return canonical


def uuid_or_none(value: str) -> str | None:
    """Return `value` as a canonical UUID string, or None if it is not a UUID."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
