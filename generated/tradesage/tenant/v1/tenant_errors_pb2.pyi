from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class TenantErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TENANT_ERROR_REASON_UNSPECIFIED: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_TENANT_NOT_FOUND: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_TENANT_ALREADY_EXISTS: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_TENANT_DEACTIVATED: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_TENANT_ALREADY_ACTIVE: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_PLAN_LIMIT_EXCEEDED: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_LIMIT_BELOW_USAGE: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_PROVISIONING_FAILED: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_BACKUP_NOT_FOUND: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_BACKUP_NOT_READY: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_BACKUP_CORRUPT: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_OPERATION_IN_PROGRESS: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[TenantErrorReason]
    TENANT_ERROR_REASON_BACKUP_INCOMPATIBLE: _ClassVar[TenantErrorReason]
TENANT_ERROR_REASON_UNSPECIFIED: TenantErrorReason
TENANT_ERROR_REASON_TENANT_NOT_FOUND: TenantErrorReason
TENANT_ERROR_REASON_TENANT_ALREADY_EXISTS: TenantErrorReason
TENANT_ERROR_REASON_TENANT_DEACTIVATED: TenantErrorReason
TENANT_ERROR_REASON_TENANT_ALREADY_ACTIVE: TenantErrorReason
TENANT_ERROR_REASON_PLAN_LIMIT_EXCEEDED: TenantErrorReason
TENANT_ERROR_REASON_LIMIT_BELOW_USAGE: TenantErrorReason
TENANT_ERROR_REASON_PROVISIONING_FAILED: TenantErrorReason
TENANT_ERROR_REASON_BACKUP_NOT_FOUND: TenantErrorReason
TENANT_ERROR_REASON_BACKUP_NOT_READY: TenantErrorReason
TENANT_ERROR_REASON_BACKUP_CORRUPT: TenantErrorReason
TENANT_ERROR_REASON_OPERATION_IN_PROGRESS: TenantErrorReason
TENANT_ERROR_REASON_FIELD_NOT_UPDATABLE: TenantErrorReason
TENANT_ERROR_REASON_BACKUP_INCOMPATIBLE: TenantErrorReason
