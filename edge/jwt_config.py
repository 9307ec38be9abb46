"""The edge's JWT check: verify access tokens against auth's JWKS, pass the claims on.

Every route needs a valid token except the RPCs the topology lists as public (sign-up, sign-in,
token refresh, JWKS, ...), whose REST and gRPC paths are read from the contracts. Verified
claims become the identity headers services trust; the edge strips any a client sent first.
"""

from __future__ import annotations

import re
from pathlib import Path

from google.protobuf import descriptor_pb2

from edge.openapi import http_routes, iter_methods
from mesh import envoy_common as ec
from mesh.topology import Topology
from services.runtime.identity import ROLES_KEY, SESSION_ID_KEY, TENANT_ID_KEY, USER_ID_KEY

PROVIDER = "tradesage"
JWKS_CLUSTER = "edge_jwks"
JWKS_PATH = "/.well-known/jwks.json"
CLAIM_HEADERS = {"sub": USER_ID_KEY, "tenant": TENANT_ID_KEY, "roles": ROLES_KEY,
                 "sid": SESSION_ID_KEY}
_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")


def jwt_filter(topology: Topology, edge_port: int, descriptor_set: Path,
               always_public: tuple[str, ...]) -> ec.Config:
    """Return the jwt_authn filter; `always_public` paths (e.g. OpenAPI) need no token."""
    settings = topology.edge["jwt"]
    provider = {
        "issuer": settings["issuer"],
        "audiences": [settings["audience"]],
        "remote_jwks": {
            # JWKS is fetched through this edge itself, so it is transcoded like any route.
            "http_uri": {"uri": f"http://127.0.0.1:{edge_port}{JWKS_PATH}",
                         "cluster": JWKS_CLUSTER, "timeout": "2s"},
            "cache_duration": f"{settings['jwks_cache_seconds']}s",
            "async_fetch": {"fast_listener": False},
            "retry_policy": {"num_retries": 5},
        },
        "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
        "claim_to_headers": [{"header_name": header, "claim_name": claim}
                             for claim, header in CLAIM_HEADERS.items()],
        "clock_skew_seconds": 30,
        # Clients resend the same token for its whole life: verify its signature once.
        "jwt_cache_config": {"jwt_cache_size": 10000},
    }
    public = [*_public_rules(topology, descriptor_set),
              *({"match": {"path": path}} for path in always_public)]
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3."
                     "JwtAuthentication",
            "providers": {PROVIDER: provider},
            "rules": [*public, {"match": {"prefix": "/"},
                                "requires": {"provider_name": PROVIDER}}],
        },
    }


def jwks_cluster(edge_port: int) -> ec.Config:
    """Return the cluster the JWT filter fetches keys through (the edge's own listener)."""
    return {
        "name": JWKS_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": JWKS_CLUSTER,
            "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": ec.socket_address("127.0.0.1", edge_port)}}]}],
        },
    }


def _public_rules(topology: Topology, descriptor_set: Path) -> list[ec.Config]:
    public = set(topology.edge["public_methods"])
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    rules: list[ec.Config] = []
    for service, method in iter_methods(files):
        if f"{service}.{method.name}" not in public:
            continue
        rules.append({"match": {"path": f"/{service}/{method.name}"}})  # gRPC and gRPC-Web
        rules += [{"match": {"safe_regex": {"regex": template_regex(route.template)},
                             "headers": [{"name": ":method",
                                          "string_match": {"exact": route.method.upper()}}]}}
                  for route in http_routes(method)]
    return rules


def template_regex(template: str) -> str:
    """Return a regex matching the paths of an http rule template such as /v1/{name=users/*}."""
    pieces, position = [], 0
    for match in _VARIABLE.finditer(template):
        pieces.append(re.escape(template[position:match.start()]))
        pattern = match.group(2) or "*"
        pieces.append("/".join(
            "[^/]+" if s == "*" else ".+" if s == "**" else re.escape(s)
            for s in pattern.split("/")))
        position = match.end()
    pieces.append(re.escape(template[position:]))
    return "".join(pieces)
