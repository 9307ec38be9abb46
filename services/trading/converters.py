"""Trading proto enums <-> domain enums."""

from __future__ import annotations

from tradesage.trading.v1 import trading_resources_pb2 as pb

from services.trading.domain.preview import OrderType, Side

_SIDES = {pb.ORDER_SIDE_BUY: Side.BUY, pb.ORDER_SIDE_SELL: Side.SELL}
_ORDER_TYPES = {
    pb.ORDER_TYPE_MARKET: OrderType.MARKET,
    pb.ORDER_TYPE_LIMIT: OrderType.LIMIT,
    pb.ORDER_TYPE_STOP: OrderType.STOP,
    pb.ORDER_TYPE_STOP_LIMIT: OrderType.STOP_LIMIT,
}


def side_from_proto(value: int) -> Side | None:
    """Return the side, or None when unspecified."""
    return _SIDES.get(value)  # type: ignore[call-overload]


def order_type_from_proto(value: int) -> OrderType | None:
    """Return the order type, or None when unspecified."""
    return _ORDER_TYPES.get(value)  # type: ignore[call-overload]
