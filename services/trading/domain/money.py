"""Exact decimal parsing for prices, quantities and money: never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from services.runtime.errors import FieldViolation

CENT = Decimal("0.01")


def parse_positive(field: str, value: str, violations: list[FieldViolation]) -> Decimal | None:
    """Return `value` as a positive finite Decimal, or record why it is not one."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        violations.append(FieldViolation(field, "must be a decimal number such as \"10.5\""))
        return None
    if not number.is_finite() or number <= 0:
        violations.append(FieldViolation(field, "must be greater than zero"))
        return None
    return number
