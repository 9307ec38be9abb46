"""Tests for the mesh topology and the Envoy configs generated from it (sidecars and edge)."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge.envoy_edge import OPENAPI_DOCUMENT, edge_config
from mesh import topology as topo
from mesh.descriptors import DESCRIPTOR_SET
from mesh.pki import Pki, ensure_pki
from mesh.plan import PortPlan, ServicePorts
from mesh.sidecar import sidecar_config

pytestmark = pytest.mark.timeout(60)

ENVOY = Path(sys.executable).with_name("envoy")
NEEDS_DESCRIPTORS = pytest.mark.skipif(
    not DESCRIPTOR_SET.exists(),
    reason=f"{DESCRIPTOR_SET} is missing; run `make generate` to build the descriptor set")

SERVICES = ("auth", "tenant", "user", "session", "market", "trading")
# Who may call each service, read off mesh/topology.yaml by hand: the edge plus every service
# whose `calls` lists it.
CALLERS = {
    "auth": {"edge", "tenant"},
    "tenant": {"edge", "auth", "trading"},
    "user": {"edge"},
    "session": {"edge", "auth", "user"},
    "market": {"edge", "trading"},
    "trading": {"edge"},
}
IDENTITY_HEADERS = {"x-tradesage-user-id", "x-tradesage-tenant-id", "x-tradesage-roles",
                    "x-tradesage-session-id", "x-tradesage-client-ip"}
SUBSCRIBE = "/tradesage.market.v1.MarketDataService/Subscribe"

Config = dict[str, Any]


@pytest.fixture(scope="module")
def topology() -> topo.Topology:
    return topo.load()


@pytest.fixture(scope="module")
def plan() -> PortPlan:
    return PortPlan(
        host="127.0.0.1", edge=18080, edge_admin=18081,
        services={name: ServicePorts(app=20000 + 10 * i, inbound=20001 + 10 * i,
                                     outbound=20002 + 10 * i, admin=20003 + 10 * i)
                  for i, name in enumerate(SERVICES)})


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return ensure_pki(tmp_path_factory.mktemp("pki"), [*SERVICES, "edge"])


@pytest.fixture(scope="module")
def sidecars(topology, plan, pki) -> dict[str, Config]:
    return {name: sidecar_config(topology, plan, pki, name) for name in SERVICES}


@pytest.fixture(scope="module")
def edge(topology, plan, pki) -> Config:
    return edge_config(topology, plan, pki, DESCRIPTOR_SET)


def _listener(config: Config, name: str) -> Config:
    [listener] = [x for x in config["static_resources"]["listeners"] if x["name"] == name]
    return listener


def _clusters(config: Config) -> dict[str, Config]:
    return {c["name"]: c for c in config["static_resources"]["clusters"]}


def _hcm(listener: Config) -> Config:
    [chain] = listener["filter_chains"]
    [hcm] = chain["filters"]
    assert hcm["name"] == "envoy.filters.network.http_connection_manager"
    return hcm["typed_config"]


def _http_filter(hcm: Config, name: str) -> Config:
    [found] = [f for f in hcm["http_filters"] if f["name"] == name]
    return found["typed_config"]


def _filter_names(hcm: Config) -> list[str]:
    return [f["name"] for f in hcm["http_filters"]]


def _tls(transport_socket: Config) -> Config:
    assert transport_socket["name"] == "envoy.transport_sockets.tls"
    return transport_socket["typed_config"]


def _endpoint(cluster: Config) -> tuple[str, int]:
    [group] = cluster["load_assignment"]["endpoints"]
    [endpoint] = group["lb_endpoints"]
    address = endpoint["endpoint"]["address"]["socket_address"]
    return address["address"], address["port_value"]


def _timeouts(routes: list[Config]) -> dict[str, str]:
    """Map each route's match (path or prefix) to its timeout."""
    return {r["match"].get("path") or r["match"]["prefix"]: r["route"]["timeout"]
            for r in routes if "route" in r}


def _write_yaml(tmp_path: Path, services: str) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text("trust_domain: test\nedge: {port: 0}\ndefaults: {timeout: 1s}\n"
                    f"services:\n{services}")
    return path


# Topology


def test_real_topology_loads(topology):
    assert topology.trust_domain == "tradesage"
    assert topology.names == SERVICES
    market = topology.service("market")
    assert market.grpc_service == "tradesage.market.v1.MarketDataService"
    assert market.package == "tradesage.market.v1"
    assert topology.service("session").stores == {"redis"}
    assert topology.service("trading").calls == ("market", "tenant")
    assert topology.spiffe_id("edge") == "spiffe://tradesage/edge"


def test_unknown_service_name_is_a_key_error(topology):
    with pytest.raises(KeyError):
        topology.service("billing")


@pytest.mark.parametrize("name", SERVICES)
def test_allowed_callers_are_the_edge_and_services_calling_it(topology, name):
    callers = topology.allowed_callers(name)

    assert callers[0] == "edge"
    assert set(callers) == CALLERS[name]
    assert len(callers) == len(set(callers))


def test_small_valid_topology_loads(tmp_path):
    path = _write_yaml(tmp_path, "  a: {grpc_service: x.a.v1.A, stores: [redis], calls: [b]}\n"
                                 "  b: {grpc_service: x.b.v1.B}\n")

    loaded = topo.load(path)

    assert loaded.names == ("a", "b")
    assert loaded.service("b").calls == ()
    assert loaded.service("b").stores == frozenset()
    assert loaded.allowed_callers("b") == ("edge", "a")


@pytest.mark.parametrize(("services", "message"), [
    ("  a: {grpc_service: x.a.v1.A, calls: [ghost]}\n", "a calls unknown services: ['ghost']"),
    ("  a: {grpc_service: x.a.v1.A, calls: [a]}\n", "a lists itself in calls"),
    ("  a: {grpc_service: x.a.v1.A, stores: [postgres, mongo]}\n",
     "a needs unknown stores: ['mongo']"),
    ("  edge: {grpc_service: x.e.v1.E}\n", "reserved for the edge"),
])
def test_invalid_topology_is_refused(tmp_path, services, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        topo.load(_write_yaml(tmp_path, services))


# Sidecar: inbound


@NEEDS_DESCRIPTORS
@pytest.mark.parametrize("name", SERVICES)
def test_inbound_requires_a_client_certificate_of_the_trust_domain(sidecars, plan, pki, name):
    inbound = _listener(sidecars[name], "inbound")
    tls = _tls(inbound["filter_chains"][0]["transport_socket"])

    assert inbound["address"]["socket_address"] == {
        "address": plan.host, "port_value": plan.of(name).inbound}
    assert tls["require_client_certificate"] is True
    context = tls["common_tls_context"]
    assert context["validation_context"]["trusted_ca"] == {"filename": str(pki.ca_cert_path)}
    assert context["validation_context"]["match_typed_subject_alt_names"] == [
        {"san_type": "URI", "matcher": {"prefix": "spiffe://tradesage/"}}]
    assert context["tls_certificates"] == [{
        "certificate_chain": {"filename": str(pki.identity(name).cert_path)},
        "private_key": {"filename": str(pki.identity(name).key_path)},
    }]


@NEEDS_DESCRIPTORS
@pytest.mark.parametrize("name", SERVICES)
def test_inbound_rbac_allows_exactly_the_topology_callers(sidecars, name):
    hcm = _hcm(_listener(sidecars[name], "inbound"))
    rbac = _http_filter(hcm, "envoy.filters.http.rbac")

    assert rbac["rules"]["action"] == "ALLOW"
    [policy] = rbac["rules"]["policies"].values()
    principals = [p["authenticated"]["principal_name"]["exact"] for p in policy["principals"]]
    assert sorted(principals) == sorted(f"spiffe://tradesage/{c}" for c in CALLERS[name])
    assert _filter_names(hcm) == ["envoy.filters.http.rbac", "envoy.filters.http.router"]


@NEEDS_DESCRIPTORS
def test_session_allows_edge_auth_and_user_and_trading_only_the_edge(sidecars):
    def principals(name: str) -> set[str]:
        rbac = _http_filter(_hcm(_listener(sidecars[name], "inbound")), "envoy.filters.http.rbac")
        [policy] = rbac["rules"]["policies"].values()
        return {p["authenticated"]["principal_name"]["exact"] for p in policy["principals"]}

    assert principals("session") == {
        "spiffe://tradesage/edge", "spiffe://tradesage/auth", "spiffe://tradesage/user"}
    assert principals("trading") == {"spiffe://tradesage/edge"}


@NEEDS_DESCRIPTORS
@pytest.mark.parametrize("name", SERVICES)
def test_inbound_routes_to_the_local_app_in_plaintext(sidecars, plan, name):
    local = _clusters(sidecars[name])["local_app"]

    assert _endpoint(local) == ("127.0.0.1", plan.of(name).app)
    assert "transport_socket" not in local
    routes = _hcm(_listener(sidecars[name], "inbound"))["route_config"]["virtual_hosts"][0]
    assert {r["route"]["cluster"] for r in routes["routes"]} == {"local_app"}


@NEEDS_DESCRIPTORS
def test_inbound_tells_the_app_the_verified_caller(sidecars):
    hcm = _hcm(_listener(sidecars["session"], "inbound"))

    assert hcm["forward_client_cert_details"] == "SANITIZE_SET"
    assert hcm["set_current_client_cert_details"] == {"uri": True}


@NEEDS_DESCRIPTORS
def test_streaming_rpc_has_no_timeout_and_unary_the_topology_timeout(sidecars):
    routes = _hcm(_listener(sidecars["market"], "inbound"))["route_config"]["virtual_hosts"][0]

    assert _timeouts(routes["routes"]) == {SUBSCRIBE: "0s", "/": "10s"}
    # Envoy takes the first matching route: the catch-all must come last.
    assert routes["routes"][-1]["match"] == {"prefix": "/"}


# Sidecar: outbound


@NEEDS_DESCRIPTORS
@pytest.mark.parametrize("name", SERVICES)
def test_outbound_cluster_pins_each_peers_spiffe_id(sidecars, plan, pki, name):
    clusters = _clusters(sidecars[name])

    assert set(clusters) == {"local_app"} | {f"peer_{p}" for p in SERVICES if p != name}
    for peer in SERVICES:
        if peer == name:
            continue
        cluster = clusters[f"peer_{peer}"]
        tls = _tls(cluster["transport_socket"])
        assert _endpoint(cluster) == (plan.host, plan.of(peer).inbound)
        assert tls["sni"] == peer
        validation = tls["common_tls_context"]["validation_context"]
        assert validation["match_typed_subject_alt_names"] == [
            {"san_type": "URI", "matcher": {"exact": f"spiffe://tradesage/{peer}"}}]
        assert validation["trusted_ca"] == {"filename": str(pki.ca_cert_path)}
        assert tls["common_tls_context"]["tls_certificates"][0]["certificate_chain"] == {
            "filename": str(pki.identity(name).cert_path)}
        assert cluster["outlier_detection"]["consecutive_5xx"] == 5


@NEEDS_DESCRIPTORS
def test_outbound_listener_is_plaintext_on_loopback_and_routes_by_authority(sidecars, plan):
    outbound = _listener(sidecars["trading"], "outbound")

    assert outbound["address"]["socket_address"] == {
        "address": "127.0.0.1", "port_value": plan.of("trading").outbound}
    assert "transport_socket" not in outbound["filter_chains"][0]
    hosts = {vh["name"]: vh for vh in _hcm(outbound)["route_config"]["virtual_hosts"]}
    assert set(hosts) == set(SERVICES) - {"trading"}
    assert hosts["market"]["domains"] == ["market", "market:*"]
    assert {r["route"]["cluster"] for r in hosts["market"]["routes"]} == {"peer_market"}


@NEEDS_DESCRIPTORS
def test_outbound_stream_has_no_timeout_and_unary_retries(sidecars):
    outbound = _listener(sidecars["trading"], "outbound")
    [market] = [vh for vh in _hcm(outbound)["route_config"]["virtual_hosts"]
                if vh["name"] == "market"]

    assert _timeouts(market["routes"]) == {SUBSCRIBE: "0s", "/": "10s"}
    unary = market["routes"][-1]["route"]
    assert unary["retry_policy"]["retry_on"] == "connect-failure,refused-stream,unavailable"
    assert unary["retry_policy"]["num_retries"] == 2


# Edge


@NEEDS_DESCRIPTORS
def test_edge_transcodes_every_service_from_the_descriptor_set(edge, topology):
    hcm = _hcm(_listener(edge, "edge"))
    transcoder = _http_filter(hcm, "envoy.filters.http.grpc_json_transcoder")

    assert transcoder["proto_descriptor"] == str(DESCRIPTOR_SET)
    assert transcoder["services"] == [s.grpc_service for s in topology.services]
    assert len(transcoder["services"]) == len(SERVICES)


@NEEDS_DESCRIPTORS
def test_edge_strips_client_sent_identity_headers_first(edge):
    hcm = _hcm(_listener(edge, "edge"))
    mutation = _http_filter(hcm, "envoy.filters.http.header_mutation")

    removed = {m["remove"] for m in mutation["mutations"]["request_mutations"]}
    assert removed == IDENTITY_HEADERS
    names = _filter_names(hcm)
    assert names[0] == "envoy.filters.http.header_mutation"
    assert names[-1] == "envoy.filters.http.router"
    assert names.index("envoy.filters.http.grpc_json_transcoder") == len(names) - 2


@NEEDS_DESCRIPTORS
def test_edge_local_replies_have_the_error_shape(edge):
    mappers = _hcm(_listener(edge, "edge"))["local_reply_config"]["mappers"]

    codes = {}
    for mapper in mappers:
        override = mapper["body_format_override"]
        assert override["content_type"] == "application/json"
        error = override["json_format"]["error"]
        assert set(error) == {"code", "message", "details"}
        [status] = [f["status_code_filter"]["comparison"]["value"]["default_value"]
                    for f in mapper["filter"]["and_filter"]["filters"]
                    if "status_code_filter" in f]
        codes[status] = error["code"]
    assert codes[404] == "NOT_FOUND"
    assert codes[401] == "UNAUTHENTICATED"
    assert codes[503] == "UNAVAILABLE"
    assert codes[504] == "DEADLINE_EXCEEDED"
    assert codes[429] == "RESOURCE_EXHAUSTED"


@NEEDS_DESCRIPTORS
def test_edge_clusters_pin_each_service_and_present_the_edge_identity(edge, plan, pki):
    clusters = _clusters(edge)

    # One cluster per service, plus the edge's own listener for fetching the JWKS.
    assert set(clusters) == {f"service_{name}" for name in SERVICES} | {"edge_jwks"}
    assert _endpoint(clusters["edge_jwks"]) == ("127.0.0.1", plan.edge)
    for name in SERVICES:
        cluster = clusters[f"service_{name}"]
        tls = _tls(cluster["transport_socket"])
        assert _endpoint(cluster) == (plan.host, plan.of(name).inbound)
        assert tls["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"] == [
            {"san_type": "URI", "matcher": {"exact": f"spiffe://tradesage/{name}"}}]
        assert tls["common_tls_context"]["tls_certificates"][0]["certificate_chain"] == {
            "filename": str(pki.identity("edge").cert_path)}


@NEEDS_DESCRIPTORS
def test_edge_streams_have_no_timeout_and_unary_the_edge_timeout(edge, plan):
    listener = _listener(edge, "edge")
    [api] = _hcm(listener)["route_config"]["virtual_hosts"]
    market = [r for r in api["routes"] if r.get("route", {}).get("cluster") == "service_market"]

    assert _timeouts(market) == {SUBSCRIBE: "0s",
                                 "/tradesage.market.v1.MarketDataService/": "15s"}
    assert listener["address"]["socket_address"] == {"address": plan.host, "port_value": 18080}
    assert edge["admin"]["address"]["socket_address"]["port_value"] == 18081


# Envoy's own check of every generated config


def _envoy_validate(config: Config, path: Path) -> subprocess.CompletedProcess:
    path.write_text(json.dumps(config))
    return subprocess.run([str(ENVOY), "--mode", "validate", "-c", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


@NEEDS_DESCRIPTORS
@pytest.mark.skipif(not ENVOY.exists(), reason=f"no envoy binary at {ENVOY}")
@pytest.mark.parametrize("name", SERVICES)
def test_envoy_accepts_the_sidecar_config(sidecars, tmp_path, name):
    result = _envoy_validate(sidecars[name], tmp_path / f"sidecar-{name}.json")

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@NEEDS_DESCRIPTORS
@pytest.mark.skipif(not ENVOY.exists(), reason=f"no envoy binary at {ENVOY}")
@pytest.mark.skipif(not OPENAPI_DOCUMENT.exists(),
                    reason=f"{OPENAPI_DOCUMENT} is missing; run `make generate`")
def test_envoy_accepts_the_edge_config(edge, tmp_path):
    result = _envoy_validate(edge, tmp_path / "edge.json")

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.skipif(not ENVOY.exists(), reason=f"no envoy binary at {ENVOY}")
@NEEDS_DESCRIPTORS
def test_envoy_validation_fails_on_a_missing_certificate(sidecars, tmp_path):
    # Guards the checks above: validate mode must really open the files a config names.
    broken = json.loads(json.dumps(sidecars["auth"]))
    inbound = _listener(broken, "inbound")
    context = _tls(inbound["filter_chains"][0]["transport_socket"])["common_tls_context"]
    context["tls_certificates"][0]["certificate_chain"]["filename"] = str(tmp_path / "gone.pem")

    assert _envoy_validate(broken, tmp_path / "broken.json").returncode != 0


@NEEDS_DESCRIPTORS
def test_edge_requires_a_token_except_on_public_routes(edge):
    hcm = _hcm(_listener(edge, "edge"))
    jwt = _http_filter(hcm, "envoy.filters.http.jwt_authn")
    rules = jwt["rules"]
    assert rules[-1] == {"match": {"prefix": "/"}, "requires": {"provider_name": "tradesage"}}
    public = [rule["match"] for rule in rules[:-1]]
    assert all("requires" not in rule for rule in rules[:-1])
    assert {"path": "/tradesage.auth.v1.AuthService/Login"} in public
    assert {"path": "/api/v1/openapi.json"} in public
    login = [m for m in public if m.get("safe_regex", {}).get("regex") == "/api/v1/auth/login"]
    assert login and login[0]["headers"][0]["string_match"] == {"exact": "POST"}
    # Nothing that needs a caller is public.
    assert not any("GetMe" in m.get("path", "") or "Logout" in m.get("path", "") for m in public)
    claims = {c["claim_name"]: c["header_name"]
              for c in jwt["providers"]["tradesage"]["claim_to_headers"]}
    assert claims == {"sub": "x-tradesage-user-id", "tenant": "x-tradesage-tenant-id",
                      "roles": "x-tradesage-roles", "sid": "x-tradesage-session-id"}
