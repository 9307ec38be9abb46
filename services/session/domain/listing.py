"""Pages of a user's sessions, newest first, with a cursor that survives inserts and expiry."""

from __future__ import annotations

from collections.abc import Iterable

from services.runtime import pagination
from services.runtime.errors import FieldViolation, InvalidArgument
from services.session.domain.limits import IndexEntry
from services.session.domain.session import is_session_id

# ListSessionsRequest documents this cap; a user's sessions are few, pages stay small.
MAX_PAGE_SIZE = 100


def page_size(requested: int) -> int:
    """Return the page size to serve: the default for 0, capped at MAX_PAGE_SIZE."""
    return pagination.page_size(requested, maximum=MAX_PAGE_SIZE)


def page_after(entries: Iterable[IndexEntry], after: IndexEntry | None,
               size: int) -> tuple[list[IndexEntry], IndexEntry | None]:
    """Return up to `size` entries older than `after`, newest first, and the next cursor."""
    ordered = sorted(entries, reverse=True)
    if after is not None:
        ordered = [entry for entry in ordered if entry < after]
    page = ordered[:size]
    return page, (page[-1] if len(ordered) > size else None)


def encode_cursor(entry: IndexEntry | None) -> str:
    """Return the page token that continues after `entry` ("" when there is no next page)."""
    if entry is None:
        return ""
    return pagination.encode_token({"c": str(entry.create_time_ms), "i": entry.id})


def decode_cursor(token: str) -> IndexEntry | None:
    """Return the entry a page token continues after; reject tokens this service did not make."""
    cursor = pagination.decode_token(token)
    if cursor is None:
        return None
    created, session_id = str(cursor.get("c", "")), str(cursor.get("i", ""))
    if not created.isdigit() or not is_session_id(session_id):
        raise InvalidArgument("page_token is not valid", [
            FieldViolation("page_token", "use a next_page_token returned by this method")])
    return IndexEntry(int(created), session_id)
