from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class SessionErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_ERROR_REASON_UNSPECIFIED: _ClassVar[SessionErrorReason]
    SESSION_ERROR_REASON_SESSION_NOT_FOUND: _ClassVar[SessionErrorReason]
    SESSION_ERROR_REASON_SESSION_EXPIRED: _ClassVar[SessionErrorReason]
    SESSION_ERROR_REASON_SESSION_REVOKED: _ClassVar[SessionErrorReason]
    SESSION_ERROR_REASON_SESSION_LIMIT_EXCEEDED: _ClassVar[SessionErrorReason]
    SESSION_ERROR_REASON_UNTRUSTED_CALLER: _ClassVar[SessionErrorReason]
    SESSION_ERROR_REASON_SESSION_LIMIT_REACHED: _ClassVar[SessionErrorReason]
SESSION_ERROR_REASON_UNSPECIFIED: SessionErrorReason
SESSION_ERROR_REASON_SESSION_NOT_FOUND: SessionErrorReason
SESSION_ERROR_REASON_SESSION_EXPIRED: SessionErrorReason
SESSION_ERROR_REASON_SESSION_REVOKED: SessionErrorReason
SESSION_ERROR_REASON_SESSION_LIMIT_EXCEEDED: SessionErrorReason
SESSION_ERROR_REASON_UNTRUSTED_CALLER: SessionErrorReason
SESSION_ERROR_REASON_SESSION_LIMIT_REACHED: SessionErrorReason
