"""Generate the Envoy bootstrap of the edge proxy.

Filter order on the way in: strip client-sent identity headers, CORS, gRPC-Web, error
reshaping (acts on the way out), REST/JSON to gRPC transcoding, router. Every service is
reached over mTLS as `spiffe://<trust domain>/edge`, pinned to that service's identity.
"""

from __future__ import annotations

from pathlib import Path

from edge.jwt_config import jwks_cluster, jwt_filter
from mesh import envoy_common as ec
from mesh.descriptors import DESCRIPTOR_SET, streaming_paths
from mesh.pki import Pki
from mesh.plan import PortPlan
from mesh.topology import EDGE, Topology
from services.runtime.identity import CLIENT_IP_KEY, EDGE_SET_KEYS

ERROR_SHAPE_LUA = Path(__file__).with_name("error_shape.lua")
OPENAPI_DOCUMENT = DESCRIPTOR_SET.with_name("openapi.json")
OPENAPI_PATH = "/api/v1/openapi.json"

# Envoy local replies (no route, bad JSON, payload too large, ...) by HTTP status.
_LOCAL_REPLY_CODES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
    404: "NOT_FOUND", 405: "INVALID_ARGUMENT", 408: "DEADLINE_EXCEEDED",
    413: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
    431: "INVALID_ARGUMENT", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def edge_config(topology: Topology, plan: PortPlan, pki: Pki,
                descriptor_set: Path = DESCRIPTOR_SET) -> ec.Config:
    """Return the bootstrap of the edge proxy."""
    hcm = ec.http_connection_manager(
        "edge",
        _route_config(topology, descriptor_set),
        _http_filters(topology, plan, descriptor_set),
        use_remote_address=True,
        always_set_request_id_in_response=True,
        local_reply_config={"mappers": [_local_reply_mapper(status, code)
                                        for status, code in _LOCAL_REPLY_CODES.items()]},
        common_http_protocol_options={"idle_timeout": "300s"},
    )
    listener = {
        "name": "edge",
        "address": ec.socket_address(plan.host, plan.edge),
        "filter_chains": [{"filters": [hcm]}],
    }
    clusters = [
        ec.grpc_cluster(
            f"service_{service.name}", plan.host, plan.of(service.name).inbound,
            transport_socket=ec.upstream_tls(
                pki.identity(EDGE), pki.ca_cert_path, topology.spiffe_id(service.name),
                service.name),
            outlier_detection=topology.defaults["outlier_detection"],
        )
        for service in topology.services
    ]
    clusters.append(jwks_cluster(plan.edge))
    return ec.bootstrap("edge", [listener], clusters, ("127.0.0.1", plan.edge_admin))


def _route_config(topology: Topology, descriptor_set: Path) -> ec.Config:
    grpc_only = [{"name": "content-type", "string_match": {"prefix": "application/grpc"}}]
    retry_policy = ec.retry_policy(topology.defaults["retries"])
    options = {"name": ":method", "string_match": {"exact": "OPTIONS"}}
    routes: list[ec.Config] = [{
        # The CORS filter answers preflights itself, but only on a route with a cluster.
        "match": {"prefix": "/", "headers": [
            options, {"name": "access-control-request-method", "present_match": True}]},
        "route": {"cluster": f"service_{topology.services[0].name}"},
    }, {
        "match": {"prefix": "/", "headers": [options]},
        "direct_response": {"status": 405},
    }, {
        "match": {"path": OPENAPI_PATH},
        "direct_response": {"status": 200, "body": {"filename": str(OPENAPI_DOCUMENT)}},
        "response_headers_to_add": [
            {"header": {"key": "content-type", "value": "application/json"}}],
    }]
    for service in topology.services:
        routes += ec.routes_to(
            streaming_paths(service.grpc_service, descriptor_set), f"service_{service.name}",
            topology.edge["request_timeout"], retry_policy=retry_policy,
            prefix=f"/{service.grpc_service}/", headers=grpc_only)
    return {
        "name": "edge",
        "max_direct_response_body_size_bytes": 4 * 1024 * 1024,
        "request_headers_to_add": [{
            "header": {"key": CLIENT_IP_KEY, "value": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        }],
        "virtual_hosts": [{
            "name": "api",
            "domains": ["*"],
            "routes": routes,
            "typed_per_filter_config": {"envoy.filters.http.cors": _cors_policy(topology)},
        }],
    }


def _http_filters(topology: Topology, plan: PortPlan,
                  descriptor_set: Path) -> list[ec.Config]:
    return [
        _strip_identity_headers(),
        {"name": "envoy.filters.http.cors", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}},
        jwt_filter(topology, plan.edge, descriptor_set, always_public=(OPENAPI_PATH,)),
        {"name": "envoy.filters.http.grpc_web", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb"}},
        {"name": "envoy.filters.http.lua", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            "default_source_code": {"inline_string": ERROR_SHAPE_LUA.read_text()}}},
        _transcoder(topology, descriptor_set),
    ]


def _strip_identity_headers() -> ec.Config:
    # Identity reaches services only from token verification at this edge, never from clients.
    return {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3."
                     "HeaderMutation",
            "mutations": {"request_mutations": [{"remove": key} for key in EDGE_SET_KEYS]},
        },
    }


def _transcoder(topology: Topology, descriptor_set: Path) -> ec.Config:
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder."
                     "v3.GrpcJsonTranscoder",
            "proto_descriptor": str(descriptor_set),
            "services": [service.grpc_service for service in topology.services],
            "convert_grpc_status": True,
            "case_insensitive_enum_parsing": True,
            "query_param_unescape_plus": True,
            "request_validation_options": {"reject_unknown_query_parameters": True},
            "print_options": {
                "always_print_primitive_fields": True,
                "stream_sse_style_delimited": True,
            },
        },
    }


def _cors_policy(topology: Topology) -> ec.Config:
    cors = topology.edge["cors"]
    return {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [
            {"safe_regex": {"regex": ".*"}} if origin == "*" else {"exact": origin}
            for origin in cors["allow_origins"]
        ],
        "allow_methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "allow_headers": "authorization, content-type, x-request-id, x-grpc-web, "
                         "x-user-agent, grpc-timeout, idempotency-key",
        "expose_headers": "x-request-id, grpc-status, grpc-message, grpc-status-details-bin",
        "max_age": str(cors["max_age"]),
    }


def _local_reply_mapper(status: int, code: str) -> ec.Config:
    """Shape Envoy's own reply for `status` as a TradeSage error, for non-gRPC callers."""
    return {
        "filter": {"and_filter": {"filters": [
            {"status_code_filter": {"comparison": {
                "op": "EQ", "value": {"default_value": status, "runtime_key": f"edge.s{status}"}}}},
            {"or_filter": {"filters": [
                # Transcoded REST calls carry a gRPC content type by now, but keep this header.
                {"header_filter": {"header": {
                    "name": "x-envoy-original-path", "present_match": True}}},
                {"header_filter": {"header": {
                    "name": "content-type", "string_match": {"prefix": "application/grpc"},
                    "invert_match": True, "treat_missing_header_as_empty": True}}},
            ]}},
        ]}},
        "body_format_override": {
            "json_format": {"error": {
                "code": code,
                "message": "no route matches this path" if status == 404 else "%LOCAL_REPLY_BODY%",
                "details": {"path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"}}},
            "content_type": "application/json",
        },
    }
