import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tradesage.market.v1 import market_resources_pb2 as _market_resources_pb2
from tradesage.type.v1 import authz_pb2 as _authz_pb2
from tradesage.type.v1 import stream_pb2 as _stream_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListInstrumentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "asset_class", "query")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ASSET_CLASS_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    asset_class: _market_resources_pb2.AssetClass
    query: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., asset_class: _Optional[_Union[_market_resources_pb2.AssetClass, str]] = ..., query: _Optional[str] = ...) -> None: ...

class ListInstrumentsResponse(_message.Message):
    __slots__ = ("instruments", "next_page_token")
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instruments: _containers.RepeatedCompositeFieldContainer[_market_resources_pb2.Instrument]
    next_page_token: str
    def __init__(self, instruments: _Optional[_Iterable[_Union[_market_resources_pb2.Instrument, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetInstrumentRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetInstrumentResponse(_message.Message):
    __slots__ = ("instrument",)
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    instrument: _market_resources_pb2.Instrument
    def __init__(self, instrument: _Optional[_Union[_market_resources_pb2.Instrument, _Mapping]] = ...) -> None: ...

class GetQuoteRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetQuoteResponse(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: _market_resources_pb2.Quote
    def __init__(self, quote: _Optional[_Union[_market_resources_pb2.Quote, _Mapping]] = ...) -> None: ...

class BatchGetQuotesRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetQuotesResponse(_message.Message):
    __slots__ = ("quotes",)
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    quotes: _containers.RepeatedCompositeFieldContainer[_market_resources_pb2.Quote]
    def __init__(self, quotes: _Optional[_Iterable[_Union[_market_resources_pb2.Quote, _Mapping]]] = ...) -> None: ...

class ListBarsRequest(_message.Message):
    __slots__ = ("symbol", "interval", "start_time", "end_time", "page_size", "page_token")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: _market_resources_pb2.BarInterval
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[_Union[_market_resources_pb2.BarInterval, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBarsResponse(_message.Message):
    __slots__ = ("bars", "next_page_token")
    BARS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bars: _containers.RepeatedCompositeFieldContainer[_market_resources_pb2.Bar]
    next_page_token: str
    def __init__(self, bars: _Optional[_Iterable[_Union[_market_resources_pb2.Bar, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ComputeIndicatorRequest(_message.Message):
    __slots__ = ("symbol", "type", "interval", "parameters", "start_time", "end_time", "page_size", "page_token")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    type: _market_resources_pb2.IndicatorType
    interval: _market_resources_pb2.BarInterval
    parameters: _market_resources_pb2.IndicatorParameters
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, symbol: _Optional[str] = ..., type: _Optional[_Union[_market_resources_pb2.IndicatorType, str]] = ..., interval: _Optional[_Union[_market_resources_pb2.BarInterval, str]] = ..., parameters: _Optional[_Union[_market_resources_pb2.IndicatorParameters, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ComputeIndicatorResponse(_message.Message):
    __slots__ = ("points", "next_page_token", "parameters")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[_market_resources_pb2.IndicatorPoint]
    next_page_token: str
    parameters: _market_resources_pb2.IndicatorParameters
    def __init__(self, points: _Optional[_Iterable[_Union[_market_resources_pb2.IndicatorPoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., parameters: _Optional[_Union[_market_resources_pb2.IndicatorParameters, _Mapping]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("symbols", "batch_quotes")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    BATCH_QUOTES_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    batch_quotes: bool
    def __init__(self, symbols: _Optional[_Iterable[str]] = ..., batch_quotes: _Optional[bool] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("quote", "heartbeat", "subscription_id", "conflated", "quotes")
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CONFLATED_FIELD_NUMBER: _ClassVar[int]
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    quote: _market_resources_pb2.Quote
    heartbeat: _stream_pb2.Heartbeat
    subscription_id: str
    conflated: bool
    quotes: _containers.RepeatedCompositeFieldContainer[_market_resources_pb2.Quote]
    def __init__(self, quote: _Optional[_Union[_market_resources_pb2.Quote, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ..., subscription_id: _Optional[str] = ..., conflated: _Optional[bool] = ..., quotes: _Optional[_Iterable[_Union[_market_resources_pb2.Quote, _Mapping]]] = ...) -> None: ...

class UpdateSubscriptionRequest(_message.Message):
    __slots__ = ("subscription_id", "add_symbols", "remove_symbols")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ADD_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    REMOVE_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    add_symbols: _containers.RepeatedScalarFieldContainer[str]
    remove_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subscription_id: _Optional[str] = ..., add_symbols: _Optional[_Iterable[str]] = ..., remove_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateSubscriptionResponse(_message.Message):
    __slots__ = ("subscription_id", "symbols")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subscription_id: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ...) -> None: ...
