"""Which symbol lists a request may name."""

from __future__ import annotations

from collections.abc import Iterable

from services.runtime.errors import FieldViolation, InvalidArgument, NotFound

MAX_SYMBOLS = 100


def normalize_symbols(values: Iterable[str], known: set[str], field: str = "symbols") -> list[str]:
    """Return the distinct upper-cased symbols (commas also split), all of them known."""
    symbols = list(dict.fromkeys(
        part.strip().upper() for value in values for part in value.split(",") if part.strip()))
    if not symbols:
        raise InvalidArgument("name at least one symbol", [
            FieldViolation(field, "must name at least one symbol")])
    if len(symbols) > MAX_SYMBOLS:
        raise InvalidArgument(f"at most {MAX_SYMBOLS} symbols per request", [
            FieldViolation(field, f"must name at most {MAX_SYMBOLS} symbols")])
    if unknown := [s for s in symbols if s not in known]:
        raise NotFound(f"unknown symbols: {', '.join(unknown)}", reason="SYMBOL_NOT_FOUND",
                       metadata={"symbols": ",".join(unknown)})
    return symbols
