"""What a question is about: a connection from one endpoint to another on a protocol/port."""

from __future__ import annotations

from dataclasses import dataclass

from stockade.model.netparse import IPAddress
from stockade.model.types import Pod, Protocol


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A pod (optionally with the address the connection uses) or an address that is no pod's."""

    pod: Pod | None = None
    ip: IPAddress | None = None

    @property
    def name(self) -> str:
        if self.pod is not None:
            return self.pod.key
        return str(self.ip)


@dataclass(frozen=True, slots=True)
class Traffic:
    source: Endpoint
    destination: Endpoint
    protocol: Protocol
    port: int
