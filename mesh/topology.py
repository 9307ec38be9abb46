"""Load and check the mesh topology (`topology.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TOPOLOGY = Path(__file__).with_name("topology.yaml")
EDGE = "edge"
STORES = frozenset({"postgres", "redis"})


@dataclass(frozen=True)
class Service:
    """One domain service of the mesh."""

    name: str
    grpc_service: str
    stores: frozenset[str]
    calls: tuple[str, ...]
    secrets: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        """Return the protobuf package, e.g. `tradesage.auth.v1`."""
        return self.grpc_service.rpartition(".")[0]


@dataclass(frozen=True)
class Topology:
    """The services, who may call whom, and the traffic policy between proxies."""

    trust_domain: str
    services: tuple[Service, ...]
    edge: dict[str, Any]
    defaults: dict[str, Any]

    def service(self, name: str) -> Service:
        """Return the service called `name`."""
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def spiffe_id(self, name: str) -> str:
        """Return the SPIFFE identity of a proxy role (a service or the edge)."""
        return f"spiffe://{self.trust_domain}/{name}"

    def allowed_callers(self, name: str) -> tuple[str, ...]:
        """Return who may call `name`: the edge and every service listing it in `calls`."""
        return (EDGE, *sorted(s.name for s in self.services if name in s.calls))

    @property
    def names(self) -> tuple[str, ...]:
        """Return the service names in topology order."""
        return tuple(s.name for s in self.services)


def load(path: Path = DEFAULT_TOPOLOGY) -> Topology:
    """Read and validate a topology file."""
    raw = yaml.safe_load(path.read_text())
    services = tuple(
        Service(
            name=name,
            grpc_service=spec["grpc_service"],
            stores=frozenset(spec.get("stores", ())),
            calls=tuple(spec.get("calls", ())),
            secrets=tuple(spec.get("secrets", ())),
        )
        for name, spec in raw["services"].items()
    )
    topology = Topology(raw["trust_domain"], services, raw["edge"], raw["defaults"])
    _validate(topology)
    return topology


def _validate(topology: Topology) -> None:
    names = set(topology.names)
    if EDGE in names:
        raise ValueError(f"'{EDGE}' is reserved for the edge proxy")
    for service in topology.services:
        if unknown := set(service.calls) - names:
            raise ValueError(f"{service.name} calls unknown services: {sorted(unknown)}")
        if service.name in service.calls:
            raise ValueError(f"{service.name} lists itself in calls")
        if bad := service.stores - STORES:
            raise ValueError(f"{service.name} needs unknown stores: {sorted(bad)}")
