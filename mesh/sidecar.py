"""Generate the Envoy bootstrap of a service's sidecar.

Inbound: mTLS only, client certificate from the mesh CA required, then RBAC allows exactly the
peers the topology names (by SPIFFE id) before the call reaches the app on loopback.
Outbound: the app's plaintext loopback listener; the peer is chosen by :authority and reached
over mTLS pinned to that peer's identity, with retries, timeouts and outlier detection.
"""

from __future__ import annotations

from mesh import envoy_common as ec
from mesh.descriptors import streaming_paths
from mesh.pki import Pki
from mesh.plan import PortPlan
from mesh.topology import Topology

LOCAL_APP = "local_app"


def sidecar_config(topology: Topology, plan: PortPlan, pki: Pki, name: str) -> ec.Config:
    """Return the bootstrap of service `name`'s sidecar."""
    ports = plan.of(name)
    listeners = [_inbound_listener(topology, plan, pki, name),
                 _outbound_listener(topology, plan, name)]
    clusters = [ec.grpc_cluster(LOCAL_APP, "127.0.0.1", ports.app),
                *(_peer_cluster(topology, plan, pki, name, peer)
                  for peer in topology.names if peer != name)]
    return ec.bootstrap(f"sidecar-{name}", listeners, clusters, ("127.0.0.1", ports.admin))


def _inbound_listener(topology: Topology, plan: PortPlan, pki: Pki, name: str) -> ec.Config:
    service = topology.service(name)
    routes = ec.routes_to(streaming_paths(service.grpc_service), LOCAL_APP,
                          topology.defaults["timeout"])
    hcm = ec.http_connection_manager(
        f"inbound_{name}",
        {"name": "inbound", "virtual_hosts": [{"name": name, "domains": ["*"], "routes": routes}]},
        [_rbac_filter(topology, name)],
        # Tell the app who called (the verified peer URI SAN), replacing anything sent.
        forward_client_cert_details="SANITIZE_SET",
        set_current_client_cert_details={"uri": True},
    )
    return {
        "name": "inbound",
        "address": ec.socket_address(plan.host, plan.of(name).inbound),
        "filter_chains": [{
            "transport_socket": ec.downstream_mtls(
                pki.identity(name), pki.ca_cert_path, topology.trust_domain),
            "filters": [hcm],
        }],
    }


def _rbac_filter(topology: Topology, name: str) -> ec.Config:
    principals = [
        {"authenticated": {"principal_name": {"exact": topology.spiffe_id(caller)}}}
        for caller in topology.allowed_callers(name)
    ]
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": {"action": "ALLOW", "policies": {
                "topology-callers": {"permissions": [{"any": True}], "principals": principals}}},
        },
    }


def _outbound_listener(topology: Topology, plan: PortPlan, name: str) -> ec.Config:
    retry_policy = ec.retry_policy(topology.defaults["retries"])
    virtual_hosts = [
        {
            "name": peer.name,
            "domains": [peer.name, f"{peer.name}:*"],
            "routes": ec.routes_to(streaming_paths(peer.grpc_service), f"peer_{peer.name}",
                                   topology.defaults["timeout"], retry_policy=retry_policy),
        }
        for peer in topology.services if peer.name != name
    ]
    hcm = ec.http_connection_manager(
        f"outbound_{name}", {"name": "outbound", "virtual_hosts": virtual_hosts}, [])
    return {
        "name": "outbound",
        "address": ec.socket_address("127.0.0.1", plan.of(name).outbound),
        "filter_chains": [{"filters": [hcm]}],
    }


def _peer_cluster(topology: Topology, plan: PortPlan, pki: Pki, name: str,
                  peer: str) -> ec.Config:
    return ec.grpc_cluster(
        f"peer_{peer}", plan.host, plan.of(peer).inbound,
        transport_socket=ec.upstream_tls(
            pki.identity(name), pki.ca_cert_path, topology.spiffe_id(peer), peer),
        outlier_detection=topology.defaults["outlier_detection"],
    )
