import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TenantPlan(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TENANT_PLAN_UNSPECIFIED: _ClassVar[TenantPlan]
    TENANT_PLAN_BASIC: _ClassVar[TenantPlan]
    TENANT_PLAN_PROFESSIONAL: _ClassVar[TenantPlan]
    TENANT_PLAN_ENTERPRISE: _ClassVar[TenantPlan]

class TenantState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TENANT_STATE_UNSPECIFIED: _ClassVar[TenantState]
    TENANT_STATE_ACTIVE: _ClassVar[TenantState]
    TENANT_STATE_DEACTIVATED: _ClassVar[TenantState]

class TenantHealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TENANT_HEALTH_STATUS_UNSPECIFIED: _ClassVar[TenantHealthStatus]
    TENANT_HEALTH_STATUS_HEALTHY: _ClassVar[TenantHealthStatus]
    TENANT_HEALTH_STATUS_DEGRADED: _ClassVar[TenantHealthStatus]
    TENANT_HEALTH_STATUS_UNHEALTHY: _ClassVar[TenantHealthStatus]

class BackupState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKUP_STATE_UNSPECIFIED: _ClassVar[BackupState]
    BACKUP_STATE_CREATING: _ClassVar[BackupState]
    BACKUP_STATE_READY: _ClassVar[BackupState]
    BACKUP_STATE_FAILED: _ClassVar[BackupState]

class RestoreTarget(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORE_TARGET_UNSPECIFIED: _ClassVar[RestoreTarget]
    RESTORE_TARGET_SAME_TENANT: _ClassVar[RestoreTarget]
    RESTORE_TARGET_NEW_TENANT: _ClassVar[RestoreTarget]
TENANT_PLAN_UNSPECIFIED: TenantPlan
TENANT_PLAN_BASIC: TenantPlan
TENANT_PLAN_PROFESSIONAL: TenantPlan
TENANT_PLAN_ENTERPRISE: TenantPlan
TENANT_STATE_UNSPECIFIED: TenantState
TENANT_STATE_ACTIVE: TenantState
TENANT_STATE_DEACTIVATED: TenantState
TENANT_HEALTH_STATUS_UNSPECIFIED: TenantHealthStatus
TENANT_HEALTH_STATUS_HEALTHY: TenantHealthStatus
TENANT_HEALTH_STATUS_DEGRADED: TenantHealthStatus
TENANT_HEALTH_STATUS_UNHEALTHY: TenantHealthStatus
BACKUP_STATE_UNSPECIFIED: BackupState
BACKUP_STATE_CREATING: BackupState
BACKUP_STATE_READY: BackupState
BACKUP_STATE_FAILED: BackupState
RESTORE_TARGET_UNSPECIFIED: RestoreTarget
RESTORE_TARGET_SAME_TENANT: RestoreTarget
RESTORE_TARGET_NEW_TENANT: RestoreTarget

class Tenant(_message.Message):
    __slots__ = ("name", "id", "display_name", "plan", "state", "create_time", "update_time", "limits", "deactivate_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DEACTIVATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    display_name: str
    plan: TenantPlan
    state: TenantState
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    limits: TenantLimits
    deactivate_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., display_name: _Optional[str] = ..., plan: _Optional[_Union[TenantPlan, str]] = ..., state: _Optional[_Union[TenantState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limits: _Optional[_Union[TenantLimits, _Mapping]] = ..., deactivate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TenantLimits(_message.Message):
    __slots__ = ("max_users", "max_portfolios", "max_open_orders", "max_requests_per_minute", "max_subscription_symbols", "max_storage_bytes", "max_backups", "max_orders_per_day", "max_sessions")
    MAX_USERS_FIELD_NUMBER: _ClassVar[int]
    MAX_PORTFOLIOS_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    MAX_REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MAX_SUBSCRIPTION_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    MAX_STORAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKUPS_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDERS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    max_users: int
    max_portfolios: int
    max_open_orders: int
    max_requests_per_minute: int
    max_subscription_symbols: int
    max_storage_bytes: int
    max_backups: int
    max_orders_per_day: int
    max_sessions: int
    def __init__(self, max_users: _Optional[int] = ..., max_portfolios: _Optional[int] = ..., max_open_orders: _Optional[int] = ..., max_requests_per_minute: _Optional[int] = ..., max_subscription_symbols: _Optional[int] = ..., max_storage_bytes: _Optional[int] = ..., max_backups: _Optional[int] = ..., max_orders_per_day: _Optional[int] = ..., max_sessions: _Optional[int] = ...) -> None: ...

class TenantHealth(_message.Message):
    __slots__ = ("name", "status", "schema_name", "schema_size_bytes", "tables", "active_connections", "slow_queries", "last_backup_time", "last_backup", "check_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    SLOW_QUERIES_FIELD_NUMBER: _ClassVar[int]
    LAST_BACKUP_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_BACKUP_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: TenantHealthStatus
    schema_name: str
    schema_size_bytes: int
    tables: _containers.RepeatedCompositeFieldContainer[TableStats]
    active_connections: int
    slow_queries: _containers.RepeatedCompositeFieldContainer[SlowQuery]
    last_backup_time: _timestamp_pb2.Timestamp
    last_backup: str
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[TenantHealthStatus, str]] = ..., schema_name: _Optional[str] = ..., schema_size_bytes: _Optional[int] = ..., tables: _Optional[_Iterable[_Union[TableStats, _Mapping]]] = ..., active_connections: _Optional[int] = ..., slow_queries: _Optional[_Iterable[_Union[SlowQuery, _Mapping]]] = ..., last_backup_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_backup: _Optional[str] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TableStats(_message.Message):
    __slots__ = ("table_name", "row_count", "size_bytes")
    TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    table_name: str
    row_count: int
    size_bytes: int
    def __init__(self, table_name: _Optional[str] = ..., row_count: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class SlowQuery(_message.Message):
    __slots__ = ("query", "calls", "mean_duration", "max_duration")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    MEAN_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_FIELD_NUMBER: _ClassVar[int]
    query: str
    calls: int
    mean_duration: _duration_pb2.Duration
    max_duration: _duration_pb2.Duration
    def __init__(self, query: _Optional[str] = ..., calls: _Optional[int] = ..., mean_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Backup(_message.Message):
    __slots__ = ("name", "id", "tenant_id", "state", "description", "size_bytes", "row_count", "storage_uri", "sha256", "create_time", "complete_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    tenant_id: str
    state: BackupState
    description: str
    size_bytes: int
    row_count: int
    storage_uri: str
    sha256: str
    create_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., state: _Optional[_Union[BackupState, str]] = ..., description: _Optional[str] = ..., size_bytes: _Optional[int] = ..., row_count: _Optional[int] = ..., storage_uri: _Optional[str] = ..., sha256: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
