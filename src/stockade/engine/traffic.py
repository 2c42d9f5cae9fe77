"""What a question is about: a connection from one endpoint to another on a protocol/port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stockade.model.netparse import IPAddress
from stockade.model.types import Pod, Protocol


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A pod (optionally with the address the connection uses) or an address that is no pod's."""

    pod: Pod | None = None
    ip: IPAddress | None = None
    host: str = ""  # a domain name the connection was made to (``query --to-host``)

    @property
    def name(self) -> str:
        if self.pod is not None:
            return self.pod.key
        if self.host:
            return self.host if self.ip is None else f"{self.host} ({self.ip})"
        return str(self.ip)


def connection_family(source: Sequence[int], destination: Sequence[int]) -> int:
    """The IP family a pod-to-pod connection uses, from each end's families (primary
    first): the source's first family the destination has, else the source's primary (the
    destination then has no address of it), else the destination's primary; 0 when
    neither end has an address."""
    for family in source:
        if family in destination:
            return family
    if source:
        return source[0]
    return destination[0] if destination else 0


@dataclass(frozen=True, slots=True)
class Traffic:
    """One connection. ``via_service``: made to a Service that sends it back to the
    source pod itself (hairpin), which cluster-wide policies judge (upstream's API
    overview), unlike a pod's connection to its own address."""

    source: Endpoint
    destination: Endpoint
    protocol: Protocol
    port: int
    via_service: bool = False
