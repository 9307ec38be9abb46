"""Build the OpenAPI 3.1 document of the REST edge from the protos' google.api.http rules.

The input is the FileDescriptorSet that codegen writes (with imports and source info), so the
document always describes exactly what Envoy's gRPC-JSON transcoder serves: the same routes, the
proto3 JSON field names, enums as strings, 64-bit integers as strings, and the one error shape
the edge returns for every failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

from mesh.topology import load as load_topology

Schema = dict[str, Any]
FieldProto = descriptor_pb2.FieldDescriptorProto

OPENAPI_VERSION = "3.1.0"
PACKAGE_PREFIX = "tradesage."
SCHEMA_REF = "#/components/schemas/"
ERROR_SCHEMA = "Error"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
API_DESCRIPTION = (
    "REST/JSON edge of the TradeSage gRPC services, transcoded by Envoy. "
    "Generated from the protos by tools/codegen.py; do not edit."
)
STREAM_DESCRIPTION = (
    "A server-sent event stream; each `data:` line is one JSON-encoded message of this schema."
)

# RPCs a client calls before it holds an access token; the edge skips the JWT check for them.
PUBLIC_METHODS = frozenset(load_topology().edge["public_methods"])

# proto3 JSON mapping of the well-known types (https://protobuf.dev/programming-guides/json/).
WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?\d+(\.\d{1,9})?s$",
        "examples": ["1.5s"],
    },
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated camelCase field paths.",
    },
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
}

_INT64 = {"type": "string", "format": "int64"}
SCALARS: dict[int, Schema] = {
    FieldProto.TYPE_STRING: {"type": "string"},
    FieldProto.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
    FieldProto.TYPE_BOOL: {"type": "boolean"},
    FieldProto.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldProto.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    # proto3 JSON writes 64-bit integers as strings so JavaScript clients keep full precision.
    FieldProto.TYPE_INT64: _INT64,
    FieldProto.TYPE_SINT64: _INT64,
    FieldProto.TYPE_SFIXED64: _INT64,
    FieldProto.TYPE_UINT64: _INT64,
    FieldProto.TYPE_FIXED64: _INT64,
    FieldProto.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldProto.TYPE_DOUBLE: {"type": "number", "format": "double"},
}

_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")


@dataclass
class Route:
    """One HTTP binding of one RPC."""

    method: str
    template: str
    body: str
    response_body: str


@dataclass
class PathParam:
    """A placeholder of the OpenAPI path and the request field it fills."""

    name: str
    field_path: str
    pattern: str


@dataclass
class Registry:
    """Messages, enums and comments of a descriptor set, keyed by full name without a dot."""

    messages: dict[str, descriptor_pb2.DescriptorProto] = field(default_factory=dict)
    enums: dict[str, descriptor_pb2.EnumDescriptorProto] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)

    def comment(self, key: str) -> str:
        """Return the cleaned leading comment of an element, or an empty string."""
        return self.comments.get(key, "")


def build_openapi(descriptor_set_bytes: bytes) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for every google.api.http rule in the descriptor set."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set_bytes).file
    registry = index_files(files)
    builder = _Builder(registry)
    for service_name, method in iter_methods(files):
        builder.add_method(service_name, method)
    return builder.document()


def index_files(files: Any) -> Registry:
    """Collect every message, enum and leading comment of the files."""
    registry = Registry()
    for file in files:
        names = _register_file(registry, file)
        for location in file.source_code_info.location:
            key = names.get(tuple(location.path))
            if key and location.leading_comments:
                registry.comments[key] = _clean_comment(location.leading_comments)
    return registry


def _register_file(
    registry: Registry, file: descriptor_pb2.FileDescriptorProto
) -> dict[tuple[int, ...], str]:
    """Register a file's types and return {source path: element key} for comment lookup."""
    names: dict[tuple[int, ...], str] = {}
    prefix = file.package
    for i, message in enumerate(file.message_type):
        _register_message(registry, names, f"{prefix}.{message.name}", message, (4, i))
    for i, enum in enumerate(file.enum_type):
        _register_enum(registry, names, f"{prefix}.{enum.name}", enum, (5, i))
    for i, service in enumerate(file.service):
        service_key = f"{prefix}.{service.name}"
        names[(6, i)] = service_key
        for j, method in enumerate(service.method):
            names[(6, i, 2, j)] = f"{service_key}.{method.name}"
    return names


def _register_message(
    registry: Registry,
    names: dict[tuple[int, ...], str],
    key: str,
    message: descriptor_pb2.DescriptorProto,
    path: tuple[int, ...],
) -> None:
    """Register a message, its fields and its nested types."""
    registry.messages[key] = message
    names[path] = key
    for i, fld in enumerate(message.field):
        names[(*path, 2, i)] = f"{key}.{fld.name}"
    for i, nested in enumerate(message.nested_type):
        _register_message(registry, names, f"{key}.{nested.name}", nested, (*path, 3, i))
    for i, enum in enumerate(message.enum_type):
        _register_enum(registry, names, f"{key}.{enum.name}", enum, (*path, 4, i))


def _register_enum(
    registry: Registry,
    names: dict[tuple[int, ...], str],
    key: str,
    enum: descriptor_pb2.EnumDescriptorProto,
    path: tuple[int, ...],
) -> None:
    """Register an enum and its values."""
    registry.enums[key] = enum
    names[path] = key
    for i, value in enumerate(enum.value):
        names[(*path, 2, i)] = f"{key}.{value.name}"


def _clean_comment(text: str) -> str:
    """Join a multi-line proto comment into one paragraph."""
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def iter_methods(files: Any) -> Iterator[tuple[str, descriptor_pb2.MethodDescriptorProto]]:
    """Yield (full service name, method) for every method of the project's services."""
    for file in files:
        if not file.package.startswith(PACKAGE_PREFIX):
            continue
        for service in file.service:
            for method in service.method:
                yield f"{file.package}.{service.name}", method


def http_routes(method: descriptor_pb2.MethodDescriptorProto) -> list[Route]:
    """Return the method's HTTP bindings, primary first; empty for internal RPCs."""
    if not method.options.HasExtension(annotations_pb2.http):
        return []
    rule = method.options.Extensions[annotations_pb2.http]
    return [_route(r) for r in (rule, *rule.additional_bindings)]


def _route(rule: http_pb2.HttpRule) -> Route:
    """Convert one HttpRule into a Route."""
    kind = rule.WhichOneof("pattern")
    if kind is None or kind == "custom":
        raise ValueError(f"unsupported http rule pattern: {rule}")
    return Route(kind, getattr(rule, kind), rule.body, rule.response_body)


def openapi_path(template: str) -> tuple[str, list[PathParam]]:
    """Turn an http rule template into an OpenAPI path and its path parameters.

    "/api/v1/{name=tenants/*/backups/*}:restore" becomes
    "/api/v1/tenants/{tenant}/backups/{backup}:restore", because OpenAPI placeholders cannot
    span slashes while resource-name fields do.
    """
    params: list[PathParam] = []
    used: set[str] = set()

    def expand(match: re.Match[str]) -> str:
        field_path, pattern = match.group(1), match.group(2) or "*"
        segments = []
        previous = ""
        for segment in pattern.split("/"):
            if segment in ("*", "**"):
                name = _unique(_placeholder(previous, field_path), used)
                params.append(PathParam(name, field_path, pattern))
                segments.append(f"{{{name}}}")
            else:
                segments.append(segment)
            previous = segment
        return "/".join(segments)

    return _VARIABLE.sub(expand, template), params


def _placeholder(previous_literal: str, field_path: str) -> str:
    """Name a placeholder after the collection it indexes, e.g. "orders" -> "order"."""
    if previous_literal and previous_literal not in ("*", "**"):
        if previous_literal.endswith("ies"):
            return previous_literal[:-3] + "y"
        return previous_literal.removesuffix("s")
    return field_path.replace(".", "_")


def _unique(name: str, used: set[str]) -> str:
    """Return name, suffixed with a number if it is already taken."""
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{name}{number}", number + 1
    used.add(candidate)
    return candidate


def json_name(fld: FieldProto) -> str:
    """Return the proto3 JSON name of a field."""
    if fld.json_name:
        return fld.json_name
    head, *rest = fld.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def behaviors(fld: FieldProto) -> set[int]:
    """Return the google.api.field_behavior values of a field."""
    return set(fld.options.Extensions[field_behavior_pb2.field_behavior])


class _Builder:
    """Accumulate paths and component schemas while walking the services."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.paths: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Schema] = {}
        self.tags: dict[str, str] = {}

    # Document -----------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """Assemble the final document with deterministic ordering."""
        schemas = {name: self.schemas[name] for name in sorted(self.schemas)}
        schemas[ERROR_SCHEMA] = self._error_schema()
        return {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": "TradeSage API",
                "version": "v1",
                "description": API_DESCRIPTION,
            },
            "tags": [{"name": name, "description": self.tags[name]} for name in sorted(self.tags)],
            "paths": {path: self._ordered(self.paths[path]) for path in sorted(self.paths)},
            "components": {
                "schemas": schemas,
                "responses": {"Error": self._error_response()},
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                },
            },
            "security": [{"bearerAuth": []}],
        }

    @staticmethod
    def _ordered(item: dict[str, Any]) -> dict[str, Any]:
        """Order the operations of a path item as HTTP_METHODS lists them."""
        return {verb: item[verb] for verb in HTTP_METHODS if verb in item}

    # Operations ---------------------------------------------------------------------------

    def add_method(self, service: str, method: descriptor_pb2.MethodDescriptorProto) -> None:
        """Add an operation for each HTTP binding of a method."""
        short_service = service.rsplit(".", 1)[1]
        self.tags.setdefault(short_service, self.registry.comment(service))
        for index, route in enumerate(http_routes(method)):
            path, params = openapi_path(route.template)
            item = self.paths.setdefault(path, {})
            if route.method in item:
                raise ValueError(f"two RPCs bind {route.method.upper()} {path}")
            operation_id = f"{short_service}_{method.name}" + (f"_{index + 1}" if index else "")
            item[route.method] = self._operation(service, method, route, params, operation_id)

    def _operation(
        self,
        service: str,
        method: descriptor_pb2.MethodDescriptorProto,
        route: Route,
        params: list[PathParam],
        operation_id: str,
    ) -> dict[str, Any]:
        """Describe one HTTP binding of one RPC."""
        full_name = f"{service}.{method.name}"
        request = method.input_type.lstrip(".")
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "tags": [service.rsplit(".", 1)[1]],
            "summary": self.registry.comment(full_name),
            "x-grpc-method": f"/{service}/{method.name}",
        }
        parameters = [self._path_parameter(p) for p in params]
        bound = {p.field_path for p in params}
        if route.body != "*":
            parameters += self._query_parameters(request, bound, route.body)
        if parameters:
            operation["parameters"] = parameters
        if route.body:
            operation["requestBody"] = self._request_body(request, route.body, bound)
        operation["responses"] = {
            "200": self._success_response(method, route),
            "default": {"$ref": "#/components/responses/Error"},
        }
        if full_name in PUBLIC_METHODS:
            operation["security"] = []
        return operation

    def _path_parameter(self, param: PathParam) -> dict[str, Any]:
        """Describe one path placeholder."""
        return {
            "name": param.name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": f"A segment of the `{param.field_path}` field (`{param.pattern}`).",
            "x-proto-field": param.field_path,
        }

    def _query_parameters(self, request: str, bound: set[str], body: str) -> list[dict[str, Any]]:
        """Describe every request field that travels in the query string."""
        skipped = bound | ({body} if body else set())
        parameters = []
        for proto_path, json_path, fld in self._leaf_fields(request, "", "", frozenset()):
            if any(proto_path == s or proto_path.startswith(s + ".") for s in skipped):
                continue
            schema = self._field_schema(fld)
            parameter: dict[str, Any] = {"name": json_path, "in": "query", "schema": schema}
            if field_behavior_pb2.REQUIRED in behaviors(fld):
                parameter["required"] = True
            doc = self.registry.comment(f"{self._owner(request, proto_path)}.{fld.name}")
            if doc:
                parameter["description"] = doc
            if fld.label == FieldProto.LABEL_REPEATED:
                parameter["explode"] = True
            parameters.append(parameter)
        return parameters

    def _owner(self, request: str, proto_path: str) -> str:
        """Return the full name of the message that declares the last field of proto_path."""
        owner = request
        for part in proto_path.split(".")[:-1]:
            fld = next(f for f in self.registry.messages[owner].field if f.name == part)
            owner = fld.type_name.lstrip(".")
        return owner

    def _leaf_fields(
        self, message: str, proto_prefix: str, json_prefix: str, seen: frozenset[str]
    ) -> Iterator[tuple[str, str, FieldProto]]:
        """Yield the query-string-able fields of a message, flattening nested messages."""
        for fld in self.registry.messages[message].field:
            proto_path, json_path = proto_prefix + fld.name, json_prefix + json_name(fld)
            type_name = fld.type_name.lstrip(".")
            nested = (
                fld.type == FieldProto.TYPE_MESSAGE
                and type_name not in WELL_KNOWN
                and fld.label != FieldProto.LABEL_REPEATED
            )
            if nested and type_name not in seen:
                yield from self._leaf_fields(
                    type_name, proto_path + ".", json_path + ".", seen | {message}
                )
            elif fld.type != FieldProto.TYPE_MESSAGE or type_name in WELL_KNOWN:
                yield proto_path, json_path, fld

    def _request_body(self, request: str, body: str, bound: set[str]) -> dict[str, Any]:
        """Describe the JSON request body of a binding."""
        if body == "*":
            schema = self._message_ref(request)
            top_level_bound = {b for b in bound if "." not in b}
            if top_level_bound:
                schema = self._without_fields(request, top_level_bound)
        else:
            fld = next(f for f in self.registry.messages[request].field if f.name == body)
            schema = self._field_schema(fld)
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def _without_fields(self, message: str, excluded: set[str]) -> Schema:
        """Return a message's object schema minus fields that travel in the path."""
        full = self._message_schema(message)
        names = {json_name(f) for f in self.registry.messages[message].field if f.name in excluded}
        schema = {k: v for k, v in full.items() if k not in ("properties", "required")}
        schema["properties"] = {k: v for k, v in full["properties"].items() if k not in names}
        required = [r for r in full.get("required", []) if r not in names]
        if required:
            schema["required"] = required
        return schema

    def _success_response(
        self, method: descriptor_pb2.MethodDescriptorProto, route: Route
    ) -> dict[str, Any]:
        """Describe the 200 response: JSON, or SSE for server-streaming RPCs."""
        response = method.output_type.lstrip(".")
        schema = self._message_ref(response)
        if route.response_body:
            fld = next(
                f for f in self.registry.messages[response].field if f.name == route.response_body
            )
            schema = self._field_schema(fld)
        if method.server_streaming:
            return {
                "description": STREAM_DESCRIPTION,
                "content": {"text/event-stream": {"schema": schema}},
            }
        return {"description": "OK", "content": {"application/json": {"schema": schema}}}

    # Schemas ------------------------------------------------------------------------------

    def _message_ref(self, full_name: str) -> Schema:
        """Return a $ref to a message's component schema, creating it on first use."""
        if full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[full_name])
        if full_name not in self.schemas:
            self.schemas[full_name] = {}  # placeholder first: messages may refer to themselves
            self.schemas[full_name] = self._message_schema(full_name)
        return {"$ref": SCHEMA_REF + full_name}

    def _enum_ref(self, full_name: str) -> Schema:
        """Return a $ref to an enum's component schema, creating it on first use."""
        if full_name not in self.schemas:
            enum = self.registry.enums[full_name]
            lines = [self.registry.comment(full_name)]
            lines += [
                f"- `{v.name}`: {self.registry.comment(f'{full_name}.{v.name}')}"
                for v in enum.value
            ]
            self.schemas[full_name] = {
                "type": "string",
                "enum": [v.name for v in enum.value],
                "description": "\n".join(line for line in lines if line),
            }
        return {"$ref": SCHEMA_REF + full_name}

    def _message_schema(self, full_name: str) -> Schema:
        """Build the object schema of a message from its fields."""
        message = self.registry.messages[full_name]
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for fld in message.field:
            name = json_name(fld)
            properties[name] = self._documented_field(full_name, fld)
            if field_behavior_pb2.REQUIRED in behaviors(fld):
                required.append(name)
        schema: Schema = {"type": "object"}
        doc = self.registry.comment(full_name)
        if doc:
            schema["description"] = doc
        schema["properties"] = properties
        if required:
            schema["required"] = required
        return schema

    def _documented_field(self, owner: str, fld: FieldProto) -> Schema:
        """Return a field's schema with its comment and read/write-only flags."""
        schema = self._field_schema(fld)
        doc = self.registry.comment(f"{owner}.{fld.name}")
        if doc:
            schema["description"] = doc
        flags = behaviors(fld)
        if field_behavior_pb2.OUTPUT_ONLY in flags:
            schema["readOnly"] = True
        if field_behavior_pb2.INPUT_ONLY in flags:
            schema["writeOnly"] = True
        return schema

    def _field_schema(self, fld: FieldProto) -> Schema:
        """Return the JSON schema of a field's value, honouring repeated and map fields."""
        type_name = fld.type_name.lstrip(".")
        if fld.type == FieldProto.TYPE_MESSAGE and self._is_map(type_name):
            entry = self.registry.messages[type_name]
            return {"type": "object", "additionalProperties": self._single_schema(entry.field[1])}
        single = self._single_schema(fld)
        if fld.label == FieldProto.LABEL_REPEATED:
            return {"type": "array", "items": single}
        return single

    def _is_map(self, type_name: str) -> bool:
        """Tell whether a message type is a synthesized map entry."""
        message = self.registry.messages.get(type_name)
        return bool(message and message.options.map_entry)

    def _single_schema(self, fld: FieldProto) -> Schema:
        """Return the schema of one value of a field, ignoring its label."""
        type_name = fld.type_name.lstrip(".")
        if fld.type == FieldProto.TYPE_MESSAGE:
            return self._message_ref(type_name)
        if fld.type == FieldProto.TYPE_ENUM:
            return self._enum_ref(type_name)
        return dict(SCALARS[fld.type])

    def _error_reasons(self) -> dict[str, list[str]]:
        """Collect each domain's ErrorInfo reasons, prefix stripped as the server sends them."""
        reasons: dict[str, list[str]] = {}
        for name, enum in sorted(self.registry.enums.items()):
            if name.startswith(PACKAGE_PREFIX) and enum.name.endswith("ErrorReason"):
                prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
                values = [v.name.removeprefix(prefix) for v in enum.value if v.number != 0]
                reasons[name.split(".")[1]] = values
        return reasons

    def _error_schema(self) -> Schema:
        """Describe the single error body the edge returns for every failed call."""
        return {
            "type": "object",
            "description": "The one error shape of the REST edge; the HTTP status matches "
            "the gRPC code.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "The ErrorInfo reason in UPPER_SNAKE_CASE, or the "
                            "gRPC code name (e.g. NOT_FOUND) when there is no ErrorInfo.",
                            "examples": ["INSUFFICIENT_FUNDS"],
                        },
                        "message": {
                            "type": "string",
                            "description": "A developer-facing explanation.",
                        },
                        "details": {
                            "type": "object",
                            "description": "The ErrorInfo metadata (lowerCamel keys), plus "
                            "`fieldViolations` for invalid arguments.",
                            "additionalProperties": True,
                            "examples": [{"required": "15025.00", "available": "10000.00"}],
                        },
                    },
                }
            },
            "x-error-reasons": self._error_reasons(),
        }

    @staticmethod
    def _error_response() -> dict[str, Any]:
        """Return the shared default response that every operation refers to."""
        return {
            "description": "Any error; the `x-request-id` response header identifies the request.",
            "content": {"application/json": {"schema": {"$ref": SCHEMA_REF + ERROR_SCHEMA}}},
        }
