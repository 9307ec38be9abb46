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

class SessionEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_EVENT_TYPE_UNSPECIFIED: _ClassVar[SessionEventType]
    SESSION_EVENT_TYPE_CREATED: _ClassVar[SessionEventType]
    SESSION_EVENT_TYPE_REVOKED: _ClassVar[SessionEventType]
    SESSION_EVENT_TYPE_EXPIRED: _ClassVar[SessionEventType]

class SessionLimitPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_LIMIT_POLICY_UNSPECIFIED: _ClassVar[SessionLimitPolicy]
    SESSION_LIMIT_POLICY_REFUSE: _ClassVar[SessionLimitPolicy]
    SESSION_LIMIT_POLICY_EVICT_OLDEST: _ClassVar[SessionLimitPolicy]
SESSION_EVENT_TYPE_UNSPECIFIED: SessionEventType
SESSION_EVENT_TYPE_CREATED: SessionEventType
SESSION_EVENT_TYPE_REVOKED: SessionEventType
SESSION_EVENT_TYPE_EXPIRED: SessionEventType
SESSION_LIMIT_POLICY_UNSPECIFIED: SessionLimitPolicy
SESSION_LIMIT_POLICY_REFUSE: SessionLimitPolicy
SESSION_LIMIT_POLICY_EVICT_OLDEST: SessionLimitPolicy

class Location(_message.Message):
    __slots__ = ("country_code", "region", "city")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    region: str
    city: str
    def __init__(self, country_code: _Optional[str] = ..., region: _Optional[str] = ..., city: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("name", "id", "user_id", "tenant_id", "user_agent", "ip_address", "create_time", "last_seen_time", "expire_time", "roles", "current", "device_fingerprint", "location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    user_id: str
    tenant_id: str
    user_agent: str
    ip_address: str
    create_time: _timestamp_pb2.Timestamp
    last_seen_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    roles: _containers.RepeatedScalarFieldContainer[str]
    current: bool
    device_fingerprint: str
    location: Location
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., user_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., user_agent: _Optional[str] = ..., ip_address: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., roles: _Optional[_Iterable[str]] = ..., current: _Optional[bool] = ..., device_fingerprint: _Optional[str] = ..., location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class SessionEvent(_message.Message):
    __slots__ = ("event_id", "type", "session", "reason", "event_time", "new_device")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    NEW_DEVICE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: SessionEventType
    session: Session
    reason: str
    event_time: _timestamp_pb2.Timestamp
    new_device: bool
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[SessionEventType, str]] = ..., session: _Optional[_Union[Session, _Mapping]] = ..., reason: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., new_device: _Optional[bool] = ...) -> None: ...
