"""Policies resolved for one pod: what a dataplane (the nftables compiler) needs to enforce.

The engine answers questions about traffic; a dataplane instead needs, per pod and per
direction, the list of allow rules with their peers resolved to pods and IP blocks and their
ports resolved to numbers. These values are that contract. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.model.netparse import IPNetwork
from stockade.model.types import Protocol, RuleAction


@dataclass(frozen=True, slots=True)
class PortRange:
    """Destination ports ``first..last`` (inclusive) of one protocol."""

    protocol: Protocol
    first: int = 1
    last: int = 65535


@dataclass(frozen=True, slots=True)
class NamedPort:
    """An egress ``port: <name>`` entry: resolved per destination pod by the dataplane."""

    protocol: Protocol
    name: str


@dataclass(frozen=True, slots=True)
class ResolvedBlock:
    """An ipBlock: ``network`` minus every network in ``excepts`` (normalised, host bits
    masked; IPv4-mapped IPv6 blocks already turned into IPv4)."""

    network: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedPeers:
    """Who a rule's ``from``/``to`` matches. ``any_peer``: the list was empty (everyone,
    pods and external addresses alike). Otherwise the union of ``pods`` (pod keys
    ``ns/name`` matched by pod/namespace selectors) and ``blocks``."""

    any_peer: bool
    pods: frozenset[str] = frozenset()
    blocks: tuple[ResolvedBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedRule:
    """One allow rule as it applies to one subject pod.

    ``ports`` is ``None`` when the rule has no ``ports`` (all protocols, all ports).
    For ingress rules named ports are already resolved against the subject pod (the
    destination), so ``named`` is empty; an ingress name the pod does not declare resolves
    to nothing. For egress rules ``named`` holds the named entries, to be resolved against
    each destination pod's container ports (they never match a non-pod address).
    """

    policy: str  # "ns/name"
    index: int  # position in spec.ingress / spec.egress
    peers: ResolvedPeers
    ports: tuple[PortRange, ...] | None
    named: tuple[NamedPort, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedClusterRule:
    """A rule of a cluster-wide policy as it applies to one subject pod, in tier order.

    ``action`` is what the rule does (a rule failing closed is a Deny of every peer and
    port). ``peers``: selected pods, and ``networks`` and the addresses of the selected
    nodes as blocks. ``ports`` is ``None`` for every port; egress ``named`` ports (which
    carry no protocol) resolve on each destination pod; ingress ones are resolved on the
    subject already. ``domains`` are the rule's domainNames, which no dataplane here
    enforces: such a peer matches nothing, as in the engine for traffic to addresses.
    """

    policy: str  # "ClusterNetworkPolicy/name"
    index: int
    action: RuleAction
    peers: ResolvedPeers
    ports: tuple[PortRange, ...] | None
    named: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodRules:
    """A pod's policy state in one direction: not isolated (``rules is None``: allow all) or
    isolated with the union of the allow rules of every policy that applies to it. With
    cluster-wide policies, ``admin`` and ``baseline`` are the rules of the tiers around
    NetworkPolicy, in evaluation order."""

    pod: str  # "ns/name"
    isolated: bool
    rules: tuple[ResolvedRule, ...] = ()
    admin: tuple[ResolvedClusterRule, ...] = ()
    baseline: tuple[ResolvedClusterRule, ...] = ()

    @property
    def tiered(self) -> bool:
        return bool(self.admin or self.baseline)

    @property
    def restricted(self) -> bool:
        """Anything applies in this direction (else every connection is allowed)."""
        return self.isolated or self.tiered
