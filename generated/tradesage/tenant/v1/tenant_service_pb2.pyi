from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from tradesage.tenant.v1 import tenant_resources_pb2 as _tenant_resources_pb2
from tradesage.type.v1 import authz_pb2 as _authz_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateTenantRequest(_message.Message):
    __slots__ = ("tenant", "request_id", "admin_email", "admin_password")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ADMIN_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ADMIN_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    request_id: str
    admin_email: str
    admin_password: str
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ..., request_id: _Optional[str] = ..., admin_email: _Optional[str] = ..., admin_password: _Optional[str] = ...) -> None: ...

class CreateTenantResponse(_message.Message):
    __slots__ = ("tenant", "admin_user_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ADMIN_USER_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    admin_user_id: str
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ..., admin_user_id: _Optional[str] = ...) -> None: ...

class GetTenantRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetTenantResponse(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ...) -> None: ...

class ListTenantsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "show_deactivated", "plan")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOW_DEACTIVATED_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    show_deactivated: bool
    plan: _tenant_resources_pb2.TenantPlan
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., show_deactivated: _Optional[bool] = ..., plan: _Optional[_Union[_tenant_resources_pb2.TenantPlan, str]] = ...) -> None: ...

class ListTenantsResponse(_message.Message):
    __slots__ = ("tenants", "next_page_token")
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenants: _containers.RepeatedCompositeFieldContainer[_tenant_resources_pb2.Tenant]
    next_page_token: str
    def __init__(self, tenants: _Optional[_Iterable[_Union[_tenant_resources_pb2.Tenant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateTenantRequest(_message.Message):
    __slots__ = ("tenant", "update_mask", "request_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateTenantResponse(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ...) -> None: ...

class DeleteTenantRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteTenantResponse(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ...) -> None: ...

class ReactivateTenantRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReactivateTenantResponse(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ...) -> None: ...

class GetTenantHealthRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetTenantHealthResponse(_message.Message):
    __slots__ = ("health",)
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    health: _tenant_resources_pb2.TenantHealth
    def __init__(self, health: _Optional[_Union[_tenant_resources_pb2.TenantHealth, _Mapping]] = ...) -> None: ...

class CreateBackupRequest(_message.Message):
    __slots__ = ("parent", "request_id", "description")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    parent: str
    request_id: str
    description: str
    def __init__(self, parent: _Optional[str] = ..., request_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateBackupResponse(_message.Message):
    __slots__ = ("backup",)
    BACKUP_FIELD_NUMBER: _ClassVar[int]
    backup: _tenant_resources_pb2.Backup
    def __init__(self, backup: _Optional[_Union[_tenant_resources_pb2.Backup, _Mapping]] = ...) -> None: ...

class ListBackupsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBackupsResponse(_message.Message):
    __slots__ = ("backups", "next_page_token")
    BACKUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backups: _containers.RepeatedCompositeFieldContainer[_tenant_resources_pb2.Backup]
    next_page_token: str
    def __init__(self, backups: _Optional[_Iterable[_Union[_tenant_resources_pb2.Backup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetBackupRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetBackupResponse(_message.Message):
    __slots__ = ("backup",)
    BACKUP_FIELD_NUMBER: _ClassVar[int]
    backup: _tenant_resources_pb2.Backup
    def __init__(self, backup: _Optional[_Union[_tenant_resources_pb2.Backup, _Mapping]] = ...) -> None: ...

class RestoreBackupRequest(_message.Message):
    __slots__ = ("name", "request_id", "target", "new_tenant_display_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    NEW_TENANT_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    target: _tenant_resources_pb2.RestoreTarget
    new_tenant_display_name: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., target: _Optional[_Union[_tenant_resources_pb2.RestoreTarget, str]] = ..., new_tenant_display_name: _Optional[str] = ...) -> None: ...

class RestoreBackupResponse(_message.Message):
    __slots__ = ("tenant", "restored_row_count")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    tenant: _tenant_resources_pb2.Tenant
    restored_row_count: int
    def __init__(self, tenant: _Optional[_Union[_tenant_resources_pb2.Tenant, _Mapping]] = ..., restored_row_count: _Optional[int] = ...) -> None: ...
