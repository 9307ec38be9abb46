from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class MarketErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_ERROR_REASON_UNSPECIFIED: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_UNKNOWN_SYMBOL: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_QUOTE_UNAVAILABLE: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_SUBSCRIPTION_NOT_FOUND: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_TOO_MANY_SYMBOLS: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_TOO_MANY_SUBSCRIPTIONS: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_INVALID_TIME_RANGE: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_INVALID_INDICATOR_PARAMETERS: _ClassVar[MarketErrorReason]
    MARKET_ERROR_REASON_SLOW_CONSUMER: _ClassVar[MarketErrorReason]
MARKET_ERROR_REASON_UNSPECIFIED: MarketErrorReason
MARKET_ERROR_REASON_UNKNOWN_SYMBOL: MarketErrorReason
MARKET_ERROR_REASON_QUOTE_UNAVAILABLE: MarketErrorReason
MARKET_ERROR_REASON_SUBSCRIPTION_NOT_FOUND: MarketErrorReason
MARKET_ERROR_REASON_TOO_MANY_SYMBOLS: MarketErrorReason
MARKET_ERROR_REASON_TOO_MANY_SUBSCRIPTIONS: MarketErrorReason
MARKET_ERROR_REASON_INVALID_TIME_RANGE: MarketErrorReason
MARKET_ERROR_REASON_INVALID_INDICATOR_PARAMETERS: MarketErrorReason
MARKET_ERROR_REASON_SLOW_CONSUMER: MarketErrorReason
