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

class BarInterval(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BAR_INTERVAL_UNSPECIFIED: _ClassVar[BarInterval]
    BAR_INTERVAL_ONE_MINUTE: _ClassVar[BarInterval]
    BAR_INTERVAL_FIVE_MINUTES: _ClassVar[BarInterval]
    BAR_INTERVAL_FIFTEEN_MINUTES: _ClassVar[BarInterval]
    BAR_INTERVAL_ONE_HOUR: _ClassVar[BarInterval]
    BAR_INTERVAL_ONE_DAY: _ClassVar[BarInterval]

class IndicatorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDICATOR_TYPE_UNSPECIFIED: _ClassVar[IndicatorType]
    INDICATOR_TYPE_SMA: _ClassVar[IndicatorType]
    INDICATOR_TYPE_EMA: _ClassVar[IndicatorType]
    INDICATOR_TYPE_RSI: _ClassVar[IndicatorType]
    INDICATOR_TYPE_MACD: _ClassVar[IndicatorType]
    INDICATOR_TYPE_BOLLINGER_BANDS: _ClassVar[IndicatorType]
    INDICATOR_TYPE_VWAP: _ClassVar[IndicatorType]

class InstrumentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTRUMENT_STATUS_UNSPECIFIED: _ClassVar[InstrumentStatus]
    INSTRUMENT_STATUS_ACTIVE: _ClassVar[InstrumentStatus]
    INSTRUMENT_STATUS_HALTED: _ClassVar[InstrumentStatus]
    INSTRUMENT_STATUS_DELISTED: _ClassVar[InstrumentStatus]

class AssetClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_CLASS_UNSPECIFIED: _ClassVar[AssetClass]
    ASSET_CLASS_EQUITY: _ClassVar[AssetClass]
    ASSET_CLASS_ETF: _ClassVar[AssetClass]
    ASSET_CLASS_CRYPTO: _ClassVar[AssetClass]
    ASSET_CLASS_FX: _ClassVar[AssetClass]
BAR_INTERVAL_UNSPECIFIED: BarInterval
BAR_INTERVAL_ONE_MINUTE: BarInterval
BAR_INTERVAL_FIVE_MINUTES: BarInterval
BAR_INTERVAL_FIFTEEN_MINUTES: BarInterval
BAR_INTERVAL_ONE_HOUR: BarInterval
BAR_INTERVAL_ONE_DAY: BarInterval
INDICATOR_TYPE_UNSPECIFIED: IndicatorType
INDICATOR_TYPE_SMA: IndicatorType
INDICATOR_TYPE_EMA: IndicatorType
INDICATOR_TYPE_RSI: IndicatorType
INDICATOR_TYPE_MACD: IndicatorType
INDICATOR_TYPE_BOLLINGER_BANDS: IndicatorType
INDICATOR_TYPE_VWAP: IndicatorType
INSTRUMENT_STATUS_UNSPECIFIED: InstrumentStatus
INSTRUMENT_STATUS_ACTIVE: InstrumentStatus
INSTRUMENT_STATUS_HALTED: InstrumentStatus
INSTRUMENT_STATUS_DELISTED: InstrumentStatus
ASSET_CLASS_UNSPECIFIED: AssetClass
ASSET_CLASS_EQUITY: AssetClass
ASSET_CLASS_ETF: AssetClass
ASSET_CLASS_CRYPTO: AssetClass
ASSET_CLASS_FX: AssetClass

class Instrument(_message.Message):
    __slots__ = ("symbol", "name", "tick_size", "lot_size", "currency_code", "trading_session", "status", "asset_class", "exchange")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOT_SIZE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    TRADING_SESSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSET_CLASS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    name: str
    tick_size: str
    lot_size: str
    currency_code: str
    trading_session: TradingSession
    status: InstrumentStatus
    asset_class: AssetClass
    exchange: str
    def __init__(self, symbol: _Optional[str] = ..., name: _Optional[str] = ..., tick_size: _Optional[str] = ..., lot_size: _Optional[str] = ..., currency_code: _Optional[str] = ..., trading_session: _Optional[_Union[TradingSession, _Mapping]] = ..., status: _Optional[_Union[InstrumentStatus, str]] = ..., asset_class: _Optional[_Union[AssetClass, str]] = ..., exchange: _Optional[str] = ...) -> None: ...

class TradingSession(_message.Message):
    __slots__ = ("time_zone", "open_time", "close_time", "iso_weekdays", "always_open")
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    ISO_WEEKDAYS_FIELD_NUMBER: _ClassVar[int]
    ALWAYS_OPEN_FIELD_NUMBER: _ClassVar[int]
    time_zone: str
    open_time: str
    close_time: str
    iso_weekdays: _containers.RepeatedScalarFieldContainer[int]
    always_open: bool
    def __init__(self, time_zone: _Optional[str] = ..., open_time: _Optional[str] = ..., close_time: _Optional[str] = ..., iso_weekdays: _Optional[_Iterable[int]] = ..., always_open: _Optional[bool] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("symbol", "bid", "ask", "bid_size", "ask_size", "last", "time", "sequence")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    bid: str
    ask: str
    bid_size: str
    ask_size: str
    last: str
    time: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, symbol: _Optional[str] = ..., bid: _Optional[str] = ..., ask: _Optional[str] = ..., bid_size: _Optional[str] = ..., ask_size: _Optional[str] = ..., last: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class Bar(_message.Message):
    __slots__ = ("symbol", "interval", "start_time", "open", "high", "low", "close", "volume", "vwap", "trade_count")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    VWAP_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: BarInterval
    start_time: _timestamp_pb2.Timestamp
    open: str
    high: str
    low: str
    close: str
    volume: str
    vwap: str
    trade_count: int
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[_Union[BarInterval, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., open: _Optional[str] = ..., high: _Optional[str] = ..., low: _Optional[str] = ..., close: _Optional[str] = ..., volume: _Optional[str] = ..., vwap: _Optional[str] = ..., trade_count: _Optional[int] = ...) -> None: ...

class IndicatorParameters(_message.Message):
    __slots__ = ("period", "fast_period", "slow_period", "signal_period", "std_dev_multiplier")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FAST_PERIOD_FIELD_NUMBER: _ClassVar[int]
    SLOW_PERIOD_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_PERIOD_FIELD_NUMBER: _ClassVar[int]
    STD_DEV_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    period: int
    fast_period: int
    slow_period: int
    signal_period: int
    std_dev_multiplier: str
    def __init__(self, period: _Optional[int] = ..., fast_period: _Optional[int] = ..., slow_period: _Optional[int] = ..., signal_period: _Optional[int] = ..., std_dev_multiplier: _Optional[str] = ...) -> None: ...

class IndicatorPoint(_message.Message):
    __slots__ = ("time", "scalar", "macd", "bollinger_bands")
    TIME_FIELD_NUMBER: _ClassVar[int]
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    MACD_FIELD_NUMBER: _ClassVar[int]
    BOLLINGER_BANDS_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    scalar: str
    macd: MacdValue
    bollinger_bands: BollingerBandsValue
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scalar: _Optional[str] = ..., macd: _Optional[_Union[MacdValue, _Mapping]] = ..., bollinger_bands: _Optional[_Union[BollingerBandsValue, _Mapping]] = ...) -> None: ...

class MacdValue(_message.Message):
    __slots__ = ("macd", "signal", "histogram")
    MACD_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_FIELD_NUMBER: _ClassVar[int]
    macd: str
    signal: str
    histogram: str
    def __init__(self, macd: _Optional[str] = ..., signal: _Optional[str] = ..., histogram: _Optional[str] = ...) -> None: ...

class BollingerBandsValue(_message.Message):
    __slots__ = ("upper", "middle", "lower")
    UPPER_FIELD_NUMBER: _ClassVar[int]
    MIDDLE_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    upper: str
    middle: str
    lower: str
    def __init__(self, upper: _Optional[str] = ..., middle: _Optional[str] = ..., lower: _Optional[str] = ...) -> None: ...
