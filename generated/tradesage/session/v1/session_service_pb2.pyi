from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from tradesage.session.v1 import session_resources_pb2 as _session_resources_pb2
from tradesage.type.v1 import authz_pb2 as _authz_pb2
from tradesage.type.v1 import stream_pb2 as _stream_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateSessionRequest(_message.Message):
    __slots__ = ("user_id", "tenant_id", "user_agent", "ip_address", "roles", "request_id", "client_hints", "device_id", "max_sessions", "session_limit_policy")
    class ClientHintsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_HINTS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    SESSION_LIMIT_POLICY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    tenant_id: str
    user_agent: str
    ip_address: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    client_hints: _containers.ScalarMap[str, str]
    device_id: str
    max_sessions: int
    session_limit_policy: _session_resources_pb2.SessionLimitPolicy
    def __init__(self, user_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., user_agent: _Optional[str] = ..., ip_address: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ..., client_hints: _Optional[_Mapping[str, str]] = ..., device_id: _Optional[str] = ..., max_sessions: _Optional[int] = ..., session_limit_policy: _Optional[_Union[_session_resources_pb2.SessionLimitPolicy, str]] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ("session", "new_device", "evicted_sessions")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    NEW_DEVICE_FIELD_NUMBER: _ClassVar[int]
    EVICTED_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    session: _session_resources_pb2.Session
    new_device: bool
    evicted_sessions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session: _Optional[_Union[_session_resources_pb2.Session, _Mapping]] = ..., new_device: _Optional[bool] = ..., evicted_sessions: _Optional[_Iterable[str]] = ...) -> None: ...

class TouchSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class TouchSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _session_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_session_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _session_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_session_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[_session_resources_pb2.Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[_session_resources_pb2.Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ("name", "request_id", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _session_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_session_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class RevokeOtherSessionsRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class RevokeOtherSessionsResponse(_message.Message):
    __slots__ = ("revoked_count",)
    REVOKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    revoked_count: int
    def __init__(self, revoked_count: _Optional[int] = ...) -> None: ...

class StreamSessionEventsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamSessionEventsResponse(_message.Message):
    __slots__ = ("session_event", "heartbeat")
    SESSION_EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    session_event: _session_resources_pb2.SessionEvent
    heartbeat: _stream_pb2.Heartbeat
    def __init__(self, session_event: _Optional[_Union[_session_resources_pb2.SessionEvent, _Mapping]] = ..., heartbeat: _Optional[_Union[_stream_pb2.Heartbeat, _Mapping]] = ...) -> None: ...

class RevokeUserSessionsRequest(_message.Message):
    __slots__ = ("user_id", "tenant_id", "reason", "except_session_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXCEPT_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    tenant_id: str
    reason: str
    except_session_id: str
    def __init__(self, user_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., reason: _Optional[str] = ..., except_session_id: _Optional[str] = ...) -> None: ...

class RevokeUserSessionsResponse(_message.Message):
    __slots__ = ("revoked_count",)
    REVOKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    revoked_count: int
    def __init__(self, revoked_count: _Optional[int] = ...) -> None: ...
