"""The port plan: where every app and proxy of one run listens."""

from __future__ import annotations

from dataclasses import dataclass

from mesh.ports import free_ports
from mesh.topology import Topology


@dataclass(frozen=True)
class ServicePorts:
    """The ports of one service: its app, its sidecar's listeners and admin."""

    app: int
    inbound: int
    outbound: int
    admin: int


@dataclass(frozen=True)
class PortPlan:
    """Every listening port of a run, all on `host` (loopback in the embedded default)."""

    host: str
    edge: int
    edge_admin: int
    services: dict[str, ServicePorts]

    def of(self, name: str) -> ServicePorts:
        """Return the ports of service `name`."""
        return self.services[name]


def allocate(topology: Topology, edge_port: int, host: str = "127.0.0.1") -> PortPlan:
    """Give every app and proxy a free port; the edge gets `edge_port` unless it is 0."""
    ports = iter(free_ports(4 * len(topology.services) + 2))
    services = {
        service.name: ServicePorts(next(ports), next(ports), next(ports), next(ports))
        for service in topology.services
    }
    edge_admin = next(ports)
    return PortPlan(host, edge_port or next(ports), edge_admin, services)
