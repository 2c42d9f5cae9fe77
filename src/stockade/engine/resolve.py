"""Each pod's resolved rules for a dataplane (``stockade.engine.resolved``): the rules that
apply to it per direction, peers resolved to pods and blocks, ports to numbers. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stockade.engine.compile import CompiledPort, CompiledRule
from stockade.engine.resolved import (
    NamedPort,
    PodRules,
    PortRange,
    ResolvedBlock,
    ResolvedClusterRule,
    ResolvedPeers,
    ResolvedRule,
)
from stockade.model.netparse import effective_network
from stockade.model.types import Pod, PolicyType, Protocol, Tier

if TYPE_CHECKING:
    from stockade.engine.engine import Engine
    from stockade.engine.tiers import ClusterPort, CompiledClusterRule

INGRESS = PolicyType.INGRESS


def pod_rules(engine: Engine, pod_key: str, direction: PolicyType) -> PodRules:
    pod = engine.pod(pod_key)
    if pod.host_network:
        return PodRules(pod_key, False)
    cls = engine.class_of(pod)
    isolating = engine.isolating[direction][cls.index]
    admin = tuple(_resolve_cluster(engine, r, pod)
                  for r in engine.tiers.stack(Tier.ADMIN, direction, cls.index))
    baseline = tuple(_resolve_cluster(engine, r, pod)
                     for r in engine.tiers.stack(Tier.BASELINE, direction, cls.index))
    rules = tuple(
        _resolve(engine, rule, pod)
        for i in isolating
        for rule in engine.compiled[i].rules[direction]
    )
    return PodRules(pod_key, bool(isolating), rules, admin, baseline)


def _resolve_cluster(engine: Engine, rule: CompiledClusterRule,
                     subject: Pod) -> ResolvedClusterRule:
    policy = engine.cluster_policies[rule.policy]
    if rule.all_peers:
        return ResolvedClusterRule(policy.key, rule.index, rule.action, ResolvedPeers(True),
                                   None)
    pods = frozenset(engine.pods[m].key for c in rule.selected.members().tolist()
                     for m in engine.classes[c].members)
    blocks = tuple(ResolvedBlock(net) for cp in rule.peers for net in cp.networks)
    blocks += tuple(ResolvedBlock(effective_network(ipaddress.ip_network(a)))
                    for cp in rule.peers
                    for a in sorted(cp.node_addresses, key=lambda a: (a.version, a)))
    domains = tuple(d for cp in rule.peers for d in cp.peer.domain_names)
    peers = ResolvedPeers(False, pods, blocks)
    if rule.any_port:
        return ResolvedClusterRule(policy.key, rule.index, rule.action, peers, None,
                                   domains=domains)
    ranges, named = resolve_cluster_ports(rule.ports, rule.direction, subject)
    return ResolvedClusterRule(policy.key, rule.index, rule.action, peers, ranges, named,
                               domains)


def _resolve(engine: Engine, rule: CompiledRule, subject: Pod) -> ResolvedRule:
    policy = engine.policies[rule.policy]
    if rule.any_peer:
        peers = ResolvedPeers(True)
    else:
        pods = frozenset(
            engine.pods[m].key
            for c in rule.selected.members().tolist()
            for m in engine.classes[c].members
        )
        blocks = tuple(ResolvedBlock(cp.block.network, cp.block.excepts)
                       for cp in rule.peers if cp.block is not None)
        peers = ResolvedPeers(False, pods, blocks)
    if rule.any_port:
        return ResolvedRule(policy.key, rule.index, peers, None)
    ranges, named = resolve_ports(rule.ports, rule.direction, subject)
    return ResolvedRule(policy.key, rule.index, peers, ranges, named)


def resolve_cluster_ports(ports: Sequence[ClusterPort], direction: PolicyType,
                          subject: Pod) -> tuple[tuple[PortRange, ...], tuple[str, ...]]:
    """A cluster rule's port entries for one subject pod: an ingress named port resolved on
    the subject (its port of that name, whatever the protocol); an egress one kept by name;
    entries that match nothing dropped."""
    ranges: list[PortRange] = []
    named: list[str] = []
    for cp in ports:
        if cp.never:
            continue
        if cp.name and direction is INGRESS:
            found = next((p for p in subject.container_ports() if p.name == cp.name), None)
            if found is not None and found.protocol in Protocol.__members__:
                ranges.append(PortRange(Protocol(found.protocol), found.container_port,
                                        found.container_port))
        elif cp.name:
            named.append(cp.name)
        elif cp.protocol is not None:
            ranges.append(PortRange(cp.protocol, cp.first, cp.last))
    return tuple(ranges), tuple(named)


def resolve_ports(ports: Sequence[CompiledPort], direction: PolicyType,
                  subject: Pod) -> tuple[tuple[PortRange, ...], tuple[NamedPort, ...]]:
    """A rule's port entries for one subject pod: numbers and ranges as they are; an ingress
    named port resolved on the subject (the first of its container ports with that name and
    protocol; none, nothing); an egress named port kept by name, for each destination."""
    ranges: list[PortRange] = []
    named: list[NamedPort] = []
    for cp in ports:
        if not cp.name:
            ranges.append(PortRange(cp.protocol, cp.first, cp.last))
        elif direction is INGRESS:
            for p in subject.container_ports():
                if p.name == cp.name and p.protocol == cp.protocol:
                    ranges.append(PortRange(cp.protocol, p.container_port, p.container_port))
                    break
        else:
            named.append(NamedPort(cp.protocol, cp.name))
    return tuple(ranges), tuple(named)
