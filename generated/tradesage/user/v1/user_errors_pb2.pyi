from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class UserErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_ERROR_REASON_UNSPECIFIED: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_USER_NOT_FOUND: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_PREFERENCES_VERSION_CONFLICT: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_PREFERENCES_TOO_LARGE: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_INVALID_TIME_ZONE: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_INVALID_LOCALE: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_ROLE_NOT_FOUND: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_ROLE_ALREADY_EXISTS: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_UNKNOWN_PERMISSION: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_LAST_ADMIN: _ClassVar[UserErrorReason]
    USER_ERROR_REASON_CUSTOM_ROLES_NOT_ALLOWED: _ClassVar[UserErrorReason]
USER_ERROR_REASON_UNSPECIFIED: UserErrorReason
USER_ERROR_REASON_USER_NOT_FOUND: UserErrorReason
USER_ERROR_REASON_PREFERENCES_VERSION_CONFLICT: UserErrorReason
USER_ERROR_REASON_PREFERENCES_TOO_LARGE: UserErrorReason
USER_ERROR_REASON_INVALID_TIME_ZONE: UserErrorReason
USER_ERROR_REASON_INVALID_LOCALE: UserErrorReason
USER_ERROR_REASON_FIELD_NOT_UPDATABLE: UserErrorReason
USER_ERROR_REASON_ROLE_NOT_FOUND: UserErrorReason
USER_ERROR_REASON_ROLE_ALREADY_EXISTS: UserErrorReason
USER_ERROR_REASON_UNKNOWN_PERMISSION: UserErrorReason
USER_ERROR_REASON_LAST_ADMIN: UserErrorReason
USER_ERROR_REASON_CUSTOM_ROLES_NOT_ALLOWED: UserErrorReason
