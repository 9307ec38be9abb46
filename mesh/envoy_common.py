"""Building blocks of Envoy v3 bootstrap configs, shared by the sidecar and edge generators.

Configs are plain dicts in proto3 JSON form, written as JSON files that Envoy loads with `-c`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesh.pki import Identity

Config = dict[str, Any]

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3." \
      "HttpConnectionManager"
ROUTER_FILTER: Config = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
_HTTP2_ONLY: Config = {
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config": {"http2_protocol_options": {}},
    }
}


def socket_address(host: str, port: int) -> Config:
    """Return an Envoy address."""
    return {"socket_address": {"address": host, "port_value": port}}


def tls_certificate(identity: Identity) -> Config:
    """Return the certificate/key pair a proxy presents."""
    return {
        "certificate_chain": {"filename": str(identity.cert_path)},
        "private_key": {"filename": str(identity.key_path)},
    }


def upstream_tls(identity: Identity, ca_path: Path, peer_spiffe_id: str, sni: str) -> Config:
    """Return an mTLS client transport socket that accepts only the peer's SPIFFE id."""
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                     "UpstreamTlsContext",
            "sni": sni,
            "common_tls_context": {
                "alpn_protocols": ["h2"],
                "tls_certificates": [tls_certificate(identity)],
                "validation_context": {
                    "trusted_ca": {"filename": str(ca_path)},
                    "match_typed_subject_alt_names": [
                        {"san_type": "URI", "matcher": {"exact": peer_spiffe_id}}],
                },
            },
        },
    }


def downstream_mtls(identity: Identity, ca_path: Path, trust_domain: str) -> Config:
    """Return an mTLS server transport socket: a client certificate from our CA is required."""
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                     "DownstreamTlsContext",
            "require_client_certificate": True,
            "common_tls_context": {
                "alpn_protocols": ["h2"],
                "tls_certificates": [tls_certificate(identity)],
                "validation_context": {
                    "trusted_ca": {"filename": str(ca_path)},
                    "match_typed_subject_alt_names": [{
                        "san_type": "URI",
                        "matcher": {"prefix": f"spiffe://{trust_domain}/"},
                    }],
                },
            },
        },
    }


def grpc_cluster(name: str, host: str, port: int, *, transport_socket: Config | None = None,
                 outlier_detection: Config | None = None) -> Config:
    """Return a static HTTP/2 cluster of one endpoint."""
    cluster: Config = {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": _HTTP2_ONLY,
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": socket_address(host, port)}}]}],
        },
    }
    if transport_socket:
        cluster["transport_socket"] = transport_socket
    if outlier_detection:
        cluster["outlier_detection"] = outlier_detection
    return cluster


def http_connection_manager(stat_prefix: str, route_config: Config, http_filters: list[Config],
                            **options: Any) -> Config:
    """Return the HTTP connection manager network filter."""
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM,
            "stat_prefix": stat_prefix,
            "codec_type": "AUTO",
            "route_config": route_config,
            "http_filters": [*http_filters, ROUTER_FILTER],
            "access_log": [_json_access_log()],
            **options,
        },
    }


def routes_to(stream_paths: tuple[str, ...], cluster: str, timeout: str, *,
              retry_policy: Config | None = None, prefix: str = "/",
              headers: list[Config] | None = None) -> list[Config]:
    """Return routes to `cluster`: streams without a timeout, every other call with one."""
    extra = {"headers": headers} if headers else {}
    unary: Config = {"cluster": cluster, "timeout": timeout}
    if retry_policy:
        unary["retry_policy"] = retry_policy
    streams = [{"match": {"path": path, **extra}, "route": {"cluster": cluster, "timeout": "0s"}}
               for path in stream_paths]
    return [*streams, {"match": {"prefix": prefix, **extra}, "route": unary}]


def retry_policy(retries: dict[str, Any]) -> Config:
    """Return an Envoy retry policy from the topology's `retries` settings."""
    return {
        "retry_on": retries["retry_on"],
        "num_retries": retries["num_retries"],
        "per_try_timeout": retries["per_try_timeout"],
        "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
    }


def bootstrap(node: str, listeners: list[Config], clusters: list[Config],
              admin: tuple[str, int]) -> Config:
    """Return a complete static bootstrap."""
    return {
        "node": {"id": node, "cluster": node},
        "admin": {"address": socket_address(*admin)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
        # Envoy's default of unlimited downstream connections is a foot-gun.
        "overload_manager": {"resource_monitors": [{
            "name": "envoy.resource_monitors.global_downstream_max_connections",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.resource_monitors."
                         "downstream_connections.v3.DownstreamConnectionsConfig",
                "max_active_downstream_connections": 50000,
            },
        }]},
    }


def _json_access_log() -> Config:
    return {
        "name": "envoy.access_loggers.stdout",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
                     "StdoutAccessLog",
            "log_format": {"json_format": {
                "time": "%START_TIME%",
                "request_id": "%REQ(X-REQUEST-ID)%",
                "method": "%REQ(:METHOD)%",
                "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
                "status": "%RESPONSE_CODE%",
                "grpc_status": "%GRPC_STATUS%",
                "duration_ms": "%DURATION%",
                "upstream": "%UPSTREAM_CLUSTER%",
                "peer": "%DOWNSTREAM_PEER_URI_SAN%",
                "flags": "%RESPONSE_FLAGS%",
            }},
        },
    }
