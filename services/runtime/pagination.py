"""AIP-158 pagination: page sizes and opaque page tokens."""

from __future__ import annotations

import base64
import binascii
import json

from services.runtime.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE,
              maximum: int = MAX_PAGE_SIZE) -> int:
    """Return the page size to use: `default` for 0, capped at `maximum`."""
    if requested < 0:
        raise InvalidArgument("page_size must not be negative", [
            FieldViolation("page_size", "must be zero (default) or positive")])
    return min(requested or default, maximum)


def encode_token(cursor: dict[str, str]) -> str:
    """Return an opaque token for the position after the last item served."""
    raw = json.dumps(cursor, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, str] | None:
    """Return the cursor of `token` (None for the first page); reject tokens we did not make."""
    if not token:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        cursor = None
    if not isinstance(cursor, dict):
        raise InvalidArgument("page_token is not valid", [
            FieldViolation("page_token", "use a next_page_token returned by this method")])
    return cursor
