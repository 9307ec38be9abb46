import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tradesage.trading.v1 import trading_analytics_pb2 as _trading_analytics_pb2
from tradesage.trading.v1 import trading_resources_pb2 as _trading_resources_pb2
from tradesage.type.v1 import authz_pb2 as _authz_pb2
from tradesage.type.v1 import money_pb2 as _money_pb2
from tradesage.type.v1 import stream_pb2 as _stream_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreatePortfolioRequest(_message.Message):
    __slots__ = ("portfolio", "request_id")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    portfolio: _trading_resources_pb2.Portfolio
    request_id: str
    def __init__(self, portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreatePortfolioResponse(_message.Message):
    __slots__ = ("portfolio",)
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    portfolio: _trading_resources_pb2.Portfolio
    def __init__(self, portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ...) -> None: ...

class GetPortfolioRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPortfolioResponse(_message.Message):
    __slots__ = ("portfolio",)
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    portfolio: _trading_resources_pb2.Portfolio
    def __init__(self, portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ...) -> None: ...

class ListPortfoliosRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "show_closed")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOW_CLOSED_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    show_closed: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., show_closed: _Optional[bool] = ...) -> None: ...

class ListPortfoliosResponse(_message.Message):
    __slots__ = ("portfolios", "next_page_token")
    PORTFOLIOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    portfolios: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.Portfolio]
    next_page_token: str
    def __init__(self, portfolios: _Optional[_Iterable[_Union[_trading_resources_pb2.Portfolio, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdatePortfolioRequest(_message.Message):
    __slots__ = ("portfolio", "update_mask", "request_id")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    portfolio: _trading_resources_pb2.Portfolio
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdatePortfolioResponse(_message.Message):
    __slots__ = ("portfolio",)
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    portfolio: _trading_resources_pb2.Portfolio
    def __init__(self, portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ...) -> None: ...

class ClosePortfolioRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ClosePortfolioResponse(_message.Message):
    __slots__ = ("portfolio",)
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    portfolio: _trading_resources_pb2.Portfolio
    def __init__(self, portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ...) -> None: ...

class DepositCashRequest(_message.Message):
    __slots__ = ("portfolio", "amount", "request_id", "description")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    amount: _money_pb2.Money
    request_id: str
    description: str
    def __init__(self, portfolio: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., request_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class DepositCashResponse(_message.Message):
    __slots__ = ("ledger_entry", "portfolio")
    LEDGER_ENTRY_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    ledger_entry: _trading_resources_pb2.LedgerEntry
    portfolio: _trading_resources_pb2.Portfolio
    def __init__(self, ledger_entry: _Optional[_Union[_trading_resources_pb2.LedgerEntry, _Mapping]] = ..., portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ...) -> None: ...

class WithdrawCashRequest(_message.Message):
    __slots__ = ("portfolio", "amount", "request_id", "description")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    amount: _money_pb2.Money
    request_id: str
    description: str
    def __init__(self, portfolio: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., request_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class WithdrawCashResponse(_message.Message):
    __slots__ = ("ledger_entry", "portfolio")
    LEDGER_ENTRY_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    ledger_entry: _trading_resources_pb2.LedgerEntry
    portfolio: _trading_resources_pb2.Portfolio
    def __init__(self, ledger_entry: _Optional[_Union[_trading_resources_pb2.LedgerEntry, _Mapping]] = ..., portfolio: _Optional[_Union[_trading_resources_pb2.Portfolio, _Mapping]] = ...) -> None: ...

class ListLedgerEntriesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "types", "start_time", "end_time")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    types: _containers.RepeatedScalarFieldContainer[_trading_resources_pb2.LedgerEntryType]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., types: _Optional[_Iterable[_Union[_trading_resources_pb2.LedgerEntryType, str]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListLedgerEntriesResponse(_message.Message):
    __slots__ = ("ledger_entries", "next_page_token")
    LEDGER_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ledger_entries: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.LedgerEntry]
    next_page_token: str
    def __init__(self, ledger_entries: _Optional[_Iterable[_Union[_trading_resources_pb2.LedgerEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("portfolio", "client_order_id", "symbol", "side", "order_type", "time_in_force", "quantity", "limit_price", "stop_price")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    client_order_id: str
    symbol: str
    side: _trading_resources_pb2.OrderSide
    order_type: _trading_resources_pb2.OrderType
    time_in_force: _trading_resources_pb2.TimeInForce
    quantity: str
    limit_price: str
    stop_price: str
    def __init__(self, portfolio: _Optional[str] = ..., client_order_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_trading_resources_pb2.OrderSide, str]] = ..., order_type: _Optional[_Union[_trading_resources_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_trading_resources_pb2.TimeInForce, str]] = ..., quantity: _Optional[str] = ..., limit_price: _Optional[str] = ..., stop_price: _Optional[str] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _trading_resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_trading_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class PreviewOrderRequest(_message.Message):
    __slots__ = ("symbol", "side", "quantity", "order_type", "limit_price", "portfolio", "stop_price", "time_in_force")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    side: _trading_resources_pb2.OrderSide
    quantity: str
    order_type: _trading_resources_pb2.OrderType
    limit_price: str
    portfolio: str
    stop_price: str
    time_in_force: _trading_resources_pb2.TimeInForce
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[_Union[_trading_resources_pb2.OrderSide, str]] = ..., quantity: _Optional[str] = ..., order_type: _Optional[_Union[_trading_resources_pb2.OrderType, str]] = ..., limit_price: _Optional[str] = ..., portfolio: _Optional[str] = ..., stop_price: _Optional[str] = ..., time_in_force: _Optional[_Union[_trading_resources_pb2.TimeInForce, str]] = ...) -> None: ...

class PreviewOrderResponse(_message.Message):
    __slots__ = ("estimated_price", "estimated_notional", "estimated_fee", "quote_time", "currency_code", "rejection_reason", "available_cash_after")
    ESTIMATED_PRICE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FEE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CASH_AFTER_FIELD_NUMBER: _ClassVar[int]
    estimated_price: str
    estimated_notional: str
    estimated_fee: str
    quote_time: _timestamp_pb2.Timestamp
    currency_code: str
    rejection_reason: str
    available_cash_after: str
    def __init__(self, estimated_price: _Optional[str] = ..., estimated_notional: _Optional[str] = ..., estimated_fee: _Optional[str] = ..., quote_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency_code: _Optional[str] = ..., rejection_reason: _Optional[str] = ..., available_cash_after: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _trading_resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_trading_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "portfolio", "symbol", "statuses", "side", "open_only", "client_order_id", "start_time", "end_time")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    portfolio: str
    symbol: str
    statuses: _containers.RepeatedScalarFieldContainer[_trading_resources_pb2.OrderStatus]
    side: _trading_resources_pb2.OrderSide
    open_only: bool
    client_order_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., portfolio: _Optional[str] = ..., symbol: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_trading_resources_pb2.OrderStatus, str]]] = ..., side: _Optional[_Union[_trading_resources_pb2.OrderSide, str]] = ..., open_only: _Optional[bool] = ..., client_order_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[_trading_resources_pb2.Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplaceOrderRequest(_message.Message):
    __slots__ = ("name", "request_id", "quantity", "limit_price", "stop_price", "time_in_force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    quantity: str
    limit_price: str
    stop_price: str
    time_in_force: _trading_resources_pb2.TimeInForce
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., quantity: _Optional[str] = ..., limit_price: _Optional[str] = ..., stop_price: _Optional[str] = ..., time_in_force: _Optional[_Union[_trading_resources_pb2.TimeInForce, str]] = ...) -> None: ...

class ReplaceOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _trading_resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_trading_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _trading_resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_trading_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class CancelAllOrdersRequest(_message.Message):
    __slots__ = ("portfolio", "request_id", "symbol", "side")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    request_id: str
    symbol: str
    side: _trading_resources_pb2.OrderSide
    def __init__(self, portfolio: _Optional[str] = ..., request_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_trading_resources_pb2.OrderSide, str]] = ...) -> None: ...

class CancelAllOrdersResponse(_message.Message):
    __slots__ = ("canceled_orders",)
    CANCELED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    canceled_orders: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.Order]
    def __init__(self, canceled_orders: _Optional[_Iterable[_Union[_trading_resources_pb2.Order, _Mapping]]] = ...) -> None: ...

class ListOrderEventsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrderEventsResponse(_message.Message):
    __slots__ = ("order_events", "next_page_token")
    ORDER_EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order_events: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.OrderEvent]
    next_page_token: str
    def __init__(self, order_events: _Optional[_Iterable[_Union[_trading_resources_pb2.OrderEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "show_flat")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOW_FLAT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    show_flat: bool
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., show_flat: _Optional[bool] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "next_page_token")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.Position]
    next_page_token: str
    def __init__(self, positions: _Optional[_Iterable[_Union[_trading_resources_pb2.Position, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPositionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPositionResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: _trading_resources_pb2.Position
    def __init__(self, position: _Optional[_Union[_trading_resources_pb2.Position, _Mapping]] = ...) -> None: ...

class ListTradesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "portfolio", "symbol", "order", "start_time", "end_time")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    portfolio: str
    symbol: str
    order: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., portfolio: _Optional[str] = ..., symbol: _Optional[str] = ..., order: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListTradesResponse(_message.Message):
    __slots__ = ("trades", "next_page_token")
    TRADES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    trades: _containers.RepeatedCompositeFieldContainer[_trading_resources_pb2.Trade]
    next_page_token: str
    def __init__(self, trades: _Optional[_Iterable[_Union[_trading_resources_pb2.Trade, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPortfolioAnalyticsRequest(_message.Message):
    __slots__ = ("portfolio", "start_time", "end_time", "granularity")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    granularity: _trading_analytics_pb2.AnalyticsGranularity
    def __init__(self, portfolio: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., granularity: _Optional[_Union[_trading_analytics_pb2.AnalyticsGranularity, str]] = ...) -> None: ...

class GetPortfolioAnalyticsResponse(_message.Message):
    __slots__ = ("analytics",)
    ANALYTICS_FIELD_NUMBER: _ClassVar[int]
    analytics: _trading_analytics_pb2.PortfolioAnalytics
    def __init__(self, analytics: _Optional[_Union[_trading_analytics_pb2.PortfolioAnalytics, _Mapping]] = ...) -> None: ...

class StreamOrderUpdatesRequest(_message.Message):
    __slots__ = ("portfolio",)
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    def __init__(self, portfolio: _Optional[str] = ...) -> None: ...

class StreamOrderUpdatesResponse(_message.Message):
    __slots__ = ("order_event", "heartbeat")
    ORDER_EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    order_event: _trading_resources_pb2.OrderEvent
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, order_event: _Optional[_Union[_trading_resources_pb2.OrderEvent, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...

class StreamPortfolioUpdatesRequest(_message.Message):
    __slots__ = ("portfolio",)
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    def __init__(self, portfolio: _Optional[str] = ...) -> None: ...

class StreamPortfolioUpdatesResponse(_message.Message):
    __slots__ = ("update", "heartbeat")
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    update: _trading_resources_pb2.PortfolioUpdate
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, update: _Optional[_Union[_trading_resources_pb2.PortfolioUpdate, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...
