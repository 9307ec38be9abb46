import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_STATE_UNSPECIFIED: _ClassVar[UserState]
    USER_STATE_ACTIVE: _ClassVar[UserState]
    USER_STATE_LOCKED: _ClassVar[UserState]
    USER_STATE_DEACTIVATED: _ClassVar[UserState]

class ActivityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVITY_KIND_UNSPECIFIED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_LOGIN: _ClassVar[ActivityKind]
    ACTIVITY_KIND_LOGIN_FAILED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_LOGOUT: _ClassVar[ActivityKind]
    ACTIVITY_KIND_PASSWORD_CHANGED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_MFA_CHANGED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_PROFILE_UPDATED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_PREFERENCES_UPDATED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_ROLES_CHANGED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_ORDER: _ClassVar[ActivityKind]
    ACTIVITY_KIND_CASH: _ClassVar[ActivityKind]
USER_STATE_UNSPECIFIED: UserState
USER_STATE_ACTIVE: UserState
USER_STATE_LOCKED: UserState
USER_STATE_DEACTIVATED: UserState
ACTIVITY_KIND_UNSPECIFIED: ActivityKind
ACTIVITY_KIND_LOGIN: ActivityKind
ACTIVITY_KIND_LOGIN_FAILED: ActivityKind
ACTIVITY_KIND_LOGOUT: ActivityKind
ACTIVITY_KIND_PASSWORD_CHANGED: ActivityKind
ACTIVITY_KIND_MFA_CHANGED: ActivityKind
ACTIVITY_KIND_PROFILE_UPDATED: ActivityKind
ACTIVITY_KIND_PREFERENCES_UPDATED: ActivityKind
ACTIVITY_KIND_ROLES_CHANGED: ActivityKind
ACTIVITY_KIND_ORDER: ActivityKind
ACTIVITY_KIND_CASH: ActivityKind

class User(_message.Message):
    __slots__ = ("name", "id", "tenant_id", "email", "display_name", "email_verified", "roles", "create_time", "update_time", "contact_phone", "locale", "time_zone", "avatar_url", "state", "mfa_enabled", "last_login_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    AVATAR_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MFA_ENABLED_FIELD_NUMBER: _ClassVar[int]
    LAST_LOGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    tenant_id: str
    email: str
    display_name: str
    email_verified: bool
    roles: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    contact_phone: str
    locale: str
    time_zone: str
    avatar_url: str
    state: UserState
    mfa_enabled: bool
    last_login_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., email_verified: _Optional[bool] = ..., roles: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_phone: _Optional[str] = ..., locale: _Optional[str] = ..., time_zone: _Optional[str] = ..., avatar_url: _Optional[str] = ..., state: _Optional[_Union[UserState, str]] = ..., mfa_enabled: _Optional[bool] = ..., last_login_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Preferences(_message.Message):
    __slots__ = ("name", "version", "settings", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    settings: _struct_pb2.Struct
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., settings: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PreferenceChange(_message.Message):
    __slots__ = ("preferences", "changed_keys", "session_id", "change_time")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_KEYS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    preferences: Preferences
    changed_keys: _containers.RepeatedScalarFieldContainer[str]
    session_id: str
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, preferences: _Optional[_Union[Preferences, _Mapping]] = ..., changed_keys: _Optional[_Iterable[str]] = ..., session_id: _Optional[str] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("name", "kind", "description", "ip_address", "user_agent", "session_id", "attributes", "create_time")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ActivityKind
    description: str
    ip_address: str
    user_agent: str
    session_id: str
    attributes: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ActivityKind, str]] = ..., description: _Optional[str] = ..., ip_address: _Optional[str] = ..., user_agent: _Optional[str] = ..., session_id: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Role(_message.Message):
    __slots__ = ("name", "id", "display_name", "description", "permissions", "system", "create_time", "inherits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    INHERITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    display_name: str
    description: str
    permissions: _containers.RepeatedScalarFieldContainer[str]
    system: bool
    create_time: _timestamp_pb2.Timestamp
    inherits: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., permissions: _Optional[_Iterable[str]] = ..., system: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., inherits: _Optional[str] = ...) -> None: ...

class EffectivePermissions(_message.Message):
    __slots__ = ("name", "roles", "permissions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., permissions: _Optional[_Iterable[str]] = ...) -> None: ...
