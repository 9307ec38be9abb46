import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tradesage.type.v1 import money_pb2 as _money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderSide(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_SIDE_UNSPECIFIED: _ClassVar[OrderSide]
    ORDER_SIDE_BUY: _ClassVar[OrderSide]
    ORDER_SIDE_SELL: _ClassVar[OrderSide]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_STOP: _ClassVar[OrderType]
    ORDER_TYPE_STOP_LIMIT: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_DAY: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_NEW: _ClassVar[OrderStatus]
    ORDER_STATUS_ACCEPTED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_EXPIRED: _ClassVar[OrderStatus]

class OrderEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_EVENT_TYPE_UNSPECIFIED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_SUBMITTED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_ACCEPTED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_REJECTED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_FILLED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_CANCELED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_CANCEL_REJECTED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_REPLACED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_REPLACE_REJECTED: _ClassVar[OrderEventType]
    ORDER_EVENT_TYPE_EXPIRED: _ClassVar[OrderEventType]

class PortfolioState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PORTFOLIO_STATE_UNSPECIFIED: _ClassVar[PortfolioState]
    PORTFOLIO_STATE_ACTIVE: _ClassVar[PortfolioState]
    PORTFOLIO_STATE_CLOSED: _ClassVar[PortfolioState]

class LedgerEntryType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEDGER_ENTRY_TYPE_UNSPECIFIED: _ClassVar[LedgerEntryType]
    LEDGER_ENTRY_TYPE_DEPOSIT: _ClassVar[LedgerEntryType]
    LEDGER_ENTRY_TYPE_WITHDRAWAL: _ClassVar[LedgerEntryType]
    LEDGER_ENTRY_TYPE_TRADE: _ClassVar[LedgerEntryType]
    LEDGER_ENTRY_TYPE_FEE: _ClassVar[LedgerEntryType]
    LEDGER_ENTRY_TYPE_ADJUSTMENT: _ClassVar[LedgerEntryType]
ORDER_SIDE_UNSPECIFIED: OrderSide
ORDER_SIDE_BUY: OrderSide
ORDER_SIDE_SELL: OrderSide
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_STOP: OrderType
ORDER_TYPE_STOP_LIMIT: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_DAY: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_NEW: OrderStatus
ORDER_STATUS_ACCEPTED: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_FILLED: OrderStatus
ORDER_STATUS_CANCELED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_EXPIRED: OrderStatus
ORDER_EVENT_TYPE_UNSPECIFIED: OrderEventType
ORDER_EVENT_TYPE_SUBMITTED: OrderEventType
ORDER_EVENT_TYPE_ACCEPTED: OrderEventType
ORDER_EVENT_TYPE_REJECTED: OrderEventType
ORDER_EVENT_TYPE_FILLED: OrderEventType
ORDER_EVENT_TYPE_CANCELED: OrderEventType
ORDER_EVENT_TYPE_CANCEL_REJECTED: OrderEventType
ORDER_EVENT_TYPE_REPLACED: OrderEventType
ORDER_EVENT_TYPE_REPLACE_REJECTED: OrderEventType
ORDER_EVENT_TYPE_EXPIRED: OrderEventType
PORTFOLIO_STATE_UNSPECIFIED: PortfolioState
PORTFOLIO_STATE_ACTIVE: PortfolioState
PORTFOLIO_STATE_CLOSED: PortfolioState
LEDGER_ENTRY_TYPE_UNSPECIFIED: LedgerEntryType
LEDGER_ENTRY_TYPE_DEPOSIT: LedgerEntryType
LEDGER_ENTRY_TYPE_WITHDRAWAL: LedgerEntryType
LEDGER_ENTRY_TYPE_TRADE: LedgerEntryType
LEDGER_ENTRY_TYPE_FEE: LedgerEntryType
LEDGER_ENTRY_TYPE_ADJUSTMENT: LedgerEntryType

class Portfolio(_message.Message):
    __slots__ = ("name", "id", "display_name", "user_id", "base_currency_code", "state", "cash_balance", "reserved_cash", "available_cash", "equity", "realized_pnl", "unrealized_pnl", "create_time", "update_time", "close_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CASH_BALANCE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_CASH_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CASH_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    display_name: str
    user_id: str
    base_currency_code: str
    state: PortfolioState
    cash_balance: _money_pb2.Money
    reserved_cash: _money_pb2.Money
    available_cash: _money_pb2.Money
    equity: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    unrealized_pnl: _money_pb2.Money
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., display_name: _Optional[str] = ..., user_id: _Optional[str] = ..., base_currency_code: _Optional[str] = ..., state: _Optional[_Union[PortfolioState, str]] = ..., cash_balance: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., reserved_cash: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., available_cash: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., equity: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unrealized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("name", "type", "amount", "balance_after", "description", "reference", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: LedgerEntryType
    amount: _money_pb2.Money
    balance_after: _money_pb2.Money
    description: str
    reference: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[LedgerEntryType, str]] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., balance_after: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("name", "id", "client_order_id", "venue_order_id", "portfolio", "symbol", "side", "order_type", "time_in_force", "quantity", "limit_price", "stop_price", "status", "filled_quantity", "remaining_quantity", "average_fill_price", "fees", "reject_reason", "create_time", "update_time", "expire_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REMAINING_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    client_order_id: str
    venue_order_id: str
    portfolio: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: str
    limit_price: str
    stop_price: str
    status: OrderStatus
    filled_quantity: str
    remaining_quantity: str
    average_fill_price: str
    fees: _money_pb2.Money
    reject_reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., venue_order_id: _Optional[str] = ..., portfolio: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[OrderSide, str]] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., quantity: _Optional[str] = ..., limit_price: _Optional[str] = ..., stop_price: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., filled_quantity: _Optional[str] = ..., remaining_quantity: _Optional[str] = ..., average_fill_price: _Optional[str] = ..., fees: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., reject_reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderEvent(_message.Message):
    __slots__ = ("event_id", "type", "order", "trade", "reason", "event_time", "record_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TRADE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: OrderEventType
    order: Order
    trade: Trade
    reason: str
    event_time: _timestamp_pb2.Timestamp
    record_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[OrderEventType, str]] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., trade: _Optional[_Union[Trade, _Mapping]] = ..., reason: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("name", "symbol", "quantity", "average_cost", "cost_basis", "market_price", "market_value", "realized_pnl", "unrealized_pnl", "open_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_COST_FIELD_NUMBER: _ClassVar[int]
    COST_BASIS_FIELD_NUMBER: _ClassVar[int]
    MARKET_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    symbol: str
    quantity: str
    average_cost: str
    cost_basis: _money_pb2.Money
    market_price: str
    market_value: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    unrealized_pnl: _money_pb2.Money
    open_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., symbol: _Optional[str] = ..., quantity: _Optional[str] = ..., average_cost: _Optional[str] = ..., cost_basis: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., market_price: _Optional[str] = ..., market_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unrealized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("name", "id", "order", "client_order_id", "portfolio", "symbol", "side", "quantity", "price", "notional", "fee", "realized_pnl", "trade_time", "record_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TRADE_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    order: str
    client_order_id: str
    portfolio: str
    symbol: str
    side: OrderSide
    quantity: str
    price: str
    notional: _money_pb2.Money
    fee: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    trade_time: _timestamp_pb2.Timestamp
    record_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., order: _Optional[str] = ..., client_order_id: _Optional[str] = ..., portfolio: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[OrderSide, str]] = ..., quantity: _Optional[str] = ..., price: _Optional[str] = ..., notional: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., trade_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PortfolioUpdate(_message.Message):
    __slots__ = ("portfolio", "positions", "ledger_entry", "update_time", "ledger_entries")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    LEDGER_ENTRY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LEDGER_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    portfolio: Portfolio
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    ledger_entry: LedgerEntry
    update_time: _timestamp_pb2.Timestamp
    ledger_entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    def __init__(self, portfolio: _Optional[_Union[Portfolio, _Mapping]] = ..., positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ..., ledger_entry: _Optional[_Union[LedgerEntry, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ...) -> None: ...
