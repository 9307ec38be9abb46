import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnalyticsGranularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANALYTICS_GRANULARITY_UNSPECIFIED: _ClassVar[AnalyticsGranularity]
    ANALYTICS_GRANULARITY_DAY: _ClassVar[AnalyticsGranularity]
    ANALYTICS_GRANULARITY_WEEK: _ClassVar[AnalyticsGranularity]
    ANALYTICS_GRANULARITY_MONTH: _ClassVar[AnalyticsGranularity]
ANALYTICS_GRANULARITY_UNSPECIFIED: AnalyticsGranularity
ANALYTICS_GRANULARITY_DAY: AnalyticsGranularity
ANALYTICS_GRANULARITY_WEEK: AnalyticsGranularity
ANALYTICS_GRANULARITY_MONTH: AnalyticsGranularity

class PortfolioAnalytics(_message.Message):
    __slots__ = ("portfolio", "currency_code", "start_time", "end_time", "granularity", "pnl_series", "realized_pnl", "unrealized_pnl", "turnover", "fees", "trade_count", "winning_trade_count", "losing_trade_count", "win_rate", "max_drawdown")
    PORTFOLIO_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    PNL_SERIES_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TURNOVER_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    WINNING_TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOSING_TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    portfolio: str
    currency_code: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    granularity: AnalyticsGranularity
    pnl_series: _containers.RepeatedCompositeFieldContainer[PnlPoint]
    realized_pnl: str
    unrealized_pnl: str
    turnover: str
    fees: str
    trade_count: int
    winning_trade_count: int
    losing_trade_count: int
    win_rate: str
    max_drawdown: str
    def __init__(self, portfolio: _Optional[str] = ..., currency_code: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., granularity: _Optional[_Union[AnalyticsGranularity, str]] = ..., pnl_series: _Optional[_Iterable[_Union[PnlPoint, _Mapping]]] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., turnover: _Optional[str] = ..., fees: _Optional[str] = ..., trade_count: _Optional[int] = ..., winning_trade_count: _Optional[int] = ..., losing_trade_count: _Optional[int] = ..., win_rate: _Optional[str] = ..., max_drawdown: _Optional[str] = ...) -> None: ...

class PnlPoint(_message.Message):
    __slots__ = ("time", "realized_pnl", "unrealized_pnl", "cumulative_pnl", "equity", "turnover", "fees")
    TIME_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_PNL_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    TURNOVER_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    realized_pnl: str
    unrealized_pnl: str
    cumulative_pnl: str
    equity: str
    turnover: str
    fees: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., cumulative_pnl: _Optional[str] = ..., equity: _Optional[str] = ..., turnover: _Optional[str] = ..., fees: _Optional[str] = ...) -> None: ...
