"""Every ErrorInfo reason the trading service sends is declared in TradingErrorReason.

Clients switch on reasons; the enum in trading_errors.proto is where SDK users find them, so a
reason sent but not declared (or declared live but never sent) is a contract bug.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tradesage.trading.v1 import trading_errors_pb2

SERVICE = Path(__file__).parents[2] / "services" / "trading"
PREFIX = "TRADING_ERROR_REASON_"
# Reasons trading sends through shared runtime code rather than a literal of its own.
FROM_RUNTIME = {"PLAN_LIMIT_EXCEEDED", "STORE_UNAVAILABLE"}
# Declared for what the service does not do yet.
NOT_SENT_YET = {"MARKET_CLOSED"}


def sent_reasons() -> dict[str, str]:
    """Return each `reason="..."` literal in the trading service, with a file that uses it."""
    found: dict[str, str] = {}
    for path in sorted(SERVICE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.keyword) and node.arg == "reason"
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                found.setdefault(node.value.value, path.name)
    return found


def declared(*, live: bool) -> set[str]:
    """Return the enum's reasons without prefix (only the non-deprecated ones if `live`)."""
    enum = trading_errors_pb2.DESCRIPTOR.enum_types_by_name["TradingErrorReason"]
    return {value.name.removeprefix(PREFIX) for value in enum.values
            if value.number and not (live and value.GetOptions().deprecated)}


def test_the_scan_finds_the_reasons_it_should() -> None:
    sent = sent_reasons()
    assert {"INSUFFICIENT_FUNDS", "POSITION_LIMIT", "ORDER_NOT_OPEN"} <= set(sent)


def test_every_reason_sent_is_declared_and_live() -> None:
    undeclared = {reason: path for reason, path in sent_reasons().items()
                  if reason not in declared(live=True)}
    assert undeclared == {}


def test_every_live_reason_declared_is_sent() -> None:
    never_sent = declared(live=True) - set(sent_reasons()) - FROM_RUNTIME - NOT_SENT_YET
    assert never_sent == set()
