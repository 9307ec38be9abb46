"""Rows of the tenant's trading tables <-> domain objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.trading.domain.orders import (
    Order,
    OrderStatus,
    OrderType,
    RecordedEvent,
    Side,
    TimeInForce,
)
from services.trading.domain.positions import Position

ORDER_COLUMNS = (
    "id, portfolio_id, user_id, client_order_id, venue_order_id, symbol, side, order_type,"
    " time_in_force, quantity, limit_price, stop_price, protection_price, status,"
    " filled_quantity, average_fill_price, fees, reserved_cash, currency_code, reject_reason,"
    " reject_details, triggered, version, create_time, update_time, expire_time, priority_time")


def order_from_row(row: Mapping[str, Any]) -> Order:
    """Build an order from an `orders` row (selected with ORDER_COLUMNS)."""
    filled = row["filled_quantity"]
    average = row["average_fill_price"]
    return Order(
        id=str(row["id"]), portfolio_id=str(row["portfolio_id"]), user_id=str(row["user_id"]),
        client_order_id=row["client_order_id"], symbol=row["symbol"], side=Side(row["side"]),
        order_type=OrderType(row["order_type"]), time_in_force=TimeInForce(row["time_in_force"]),
        quantity=row["quantity"], currency_code=row["currency_code"].strip(),
        limit_price=row["limit_price"], stop_price=row["stop_price"],
        protection_price=row["protection_price"], status=OrderStatus(row["status"]),
        filled_quantity=filled, filled_notional=filled * average if average else Decimal(0),
        fees=row["fees"], reserved_cash=row["reserved_cash"],
        reject_reason=row["reject_reason"], triggered=row["triggered"],
        venue_order_id=row["venue_order_id"], create_time=row["create_time"],
        update_time=row["update_time"], expire_time=row["expire_time"],
        priority_time=row["priority_time"], version=row["version"])


def reject_details(row: Mapping[str, Any]) -> dict[str, str]:
    """Return the stored figures behind a rejection."""
    raw = row["reject_details"]
    return json.loads(raw) if raw else {}


def order_snapshot(order: Order, event: RecordedEvent | None = None) -> str:
    """Return the order as the JSON stored with an event: as it was right after `event`."""
    status, quantity, filled, notional = (
        (event.status, event.quantity, event.filled_quantity, event.filled_notional) if event
        else (order.status, order.quantity, order.filled_quantity, order.filled_notional))
    return json.dumps({
        "id": order.id, "portfolioId": order.portfolio_id, "userId": order.user_id,
        "clientOrderId": order.client_order_id, "venueOrderId": order.venue_order_id or "",
        "symbol": order.symbol, "side": order.side.value, "orderType": order.order_type.value,
        "timeInForce": order.time_in_force.value, "quantity": str(quantity),
        "limitPrice": _text(order.limit_price), "stopPrice": _text(order.stop_price),
        "status": status.value, "filledQuantity": str(filled),
        "averageFillPrice": _text(notional / filled if filled else None),
        "fees": str(order.fees),
        "currencyCode": order.currency_code, "rejectReason": order.reject_reason or "",
        "createTime": _time(order.create_time), "updateTime": _time(order.update_time),
        "expireTime": _time(order.expire_time),
    }, separators=(",", ":"))


def order_from_snapshot(raw: str | Mapping[str, Any]) -> Order:
    """Rebuild the order an event stored."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    filled = Decimal(data["filledQuantity"])
    average = Decimal(data["averageFillPrice"]) if data["averageFillPrice"] else None
    return Order(
        id=data["id"], portfolio_id=data["portfolioId"], user_id=data["userId"],
        client_order_id=data["clientOrderId"], symbol=data["symbol"], side=Side(data["side"]),
        order_type=OrderType(data["orderType"]),
        time_in_force=TimeInForce(data["timeInForce"]), quantity=Decimal(data["quantity"]),
        currency_code=data["currencyCode"], limit_price=_decimal(data["limitPrice"]),
        stop_price=_decimal(data["stopPrice"]), status=OrderStatus(data["status"]),
        filled_quantity=filled, filled_notional=filled * average if average else Decimal(0),
        fees=Decimal(data["fees"]), reject_reason=data["rejectReason"] or None,
        venue_order_id=data["venueOrderId"] or None,
        create_time=_parse_time(data["createTime"]), update_time=_parse_time(data["updateTime"]),
        expire_time=_parse_time(data["expireTime"]))


def position_from_row(row: Mapping[str, Any]) -> Position:
    """Build a position from a `positions` row."""
    return Position(symbol=row["symbol"], quantity=row["quantity"], cost_basis=row["cost_basis"],
                    realized_pnl=row["realized_pnl"], open_time=row["open_time"],
                    update_time=row["update_time"])


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value else None


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _parse_time(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
