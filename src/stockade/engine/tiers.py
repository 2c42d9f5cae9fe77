"""Cluster-wide policies compiled into tiers over behaviour classes.

The Admin and Baseline tiers are ordered lists of rules: policies by (priority, name,
kind) — upstream leaves ties between overlapping policies of one priority to the
implementation, stockade orders them by name — and inside a policy by rule index. A
BaselineAdminNetworkPolicy (v1alpha1, no priority) comes after every Baseline
ClusterNetworkPolicy. Each rule's peers become, once, boolean vectors over classes (like a
NetworkPolicy rule's): ``namespaces``/``pods`` as selectors over pod-network classes,
``networks`` and ``nodes`` as address sets over the classes' regions. A class's *stack* in a
tier and direction is the tuple of rules of the policies selecting it, in tier order;
classes with the same stack share everything computed from it. Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.classset import ClassSet
from stockade.engine.compile import Block, Compiler
from stockade.engine.ports import MAX_PORT
from stockade.model.netparse import IPAddress, IPNetwork, effective_network, parse_prefix
from stockade.model.selectors import add_selector_values, selector_matches
from stockade.model.types import (
    ClusterNetworkPolicy,
    ClusterPolicyPeer,
    ClusterPolicyPort,
    ClusterPolicyRule,
    ClusterPolicySubject,
    LabelSelector,
    Pod,
    PolicyType,
    Protocol,
    RuleAction,
    Tier,
)

BASELINE_WITHOUT_PRIORITY = 1001  # a BANP ranks after every Baseline ClusterNetworkPolicy
NodeInfo = tuple[Mapping[str, str], Sequence[IPAddress]]  # a Node's labels and addresses


def tier_key(policy: ClusterNetworkPolicy) -> tuple[int, str, str]:
    """Where a policy stands in its tier: priority, then name, then kind."""
    priority = policy.priority if policy.has_priority else BASELINE_WITHOUT_PRIORITY
    return priority, policy.name, policy.kind


def ordered(policies: Sequence[ClusterNetworkPolicy], tier: Tier) -> list[int]:
    """Indices of the policies of ``tier``, in evaluation order."""
    return sorted((i for i, p in enumerate(policies) if p.tier is tier),
                  key=lambda i: tier_key(policies[i]))


def networks_of(peer: ClusterPolicyPeer) -> tuple[IPNetwork, ...]:
    """A peer's ``networks``, host bits masked (IPv4-mapped forms are refused upstream)."""
    out: list[IPNetwork] = []
    for text in peer.networks:
        net = parse_prefix(text)
        if net is not None:
            out.append(effective_network(net))
    return tuple(out)


def cluster_label_values(policies: Sequence[ClusterNetworkPolicy],
                         into: dict[str, set[str]]) -> None:
    """Add to ``into`` the pod label keys the cluster policies' pod selectors read, with the
    values they compare them with (``add_selector_values``): what classes must keep. No
    peer of theirs compares a pod label between two pods (the ``sameLabels`` and
    ``notSameLabels`` upstream removed in 2024 compared namespace labels, and are not
    read), so the values no selector names never matter."""
    for policy in policies:
        if policy.subject.pods is not None:
            add_selector_values(policy.subject.pods.pod_selector, into)
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.pods is not None:
                    add_selector_values(peer.pods.pod_selector, into)


def cluster_named_ports(policies: Sequence[ClusterNetworkPolicy]) -> set[tuple[Protocol, str]]:
    """Named ports the cluster policies use. They carry no protocol: a name resolves to the
    destination's container port of that name whatever its protocol, so classes must tell
    apart every protocol's port of that name."""
    names = {port.name for policy in policies for rule in (*policy.ingress, *policy.egress)
             for port in rule.ports or () if port.name}
    return {(proto, name) for name in names for proto in Protocol}


def cluster_blocks(policies: Sequence[ClusterNetworkPolicy],
                   node_addresses: Sequence[IPAddress]) -> list[tuple[IPNetwork, tuple[()]]]:
    """Every network the cluster policies name, and every node address (a ``nodes`` peer
    matches single addresses): the cuts that behaviour classes must respect."""
    found: dict[IPNetwork, None] = {}
    nodes: list[IPNetwork] | None = None  # the node addresses' networks, made once
    for policy in policies:
        for rule in policy.egress:
            for peer in rule.peers:
                for net in networks_of(peer):
                    found[net] = None
                if peer.nodes is not None:
                    if nodes is None:
                        nodes = [effective_network(_host_network(addr))
                                 for addr in node_addresses]
                    found.update(dict.fromkeys(nodes))
    return [(net, ()) for net in found]


def _host_network(addr: IPAddress) -> IPNetwork:
    return ipaddress.ip_network(addr)


@dataclass(frozen=True, slots=True)
class ClusterPort:
    """A ``ports``/``protocols`` entry: ``protocol`` None with a ``name`` is a named port
    (any protocol); ``never`` marks an entry that matches no TCP, UDP or SCTP traffic (a
    v1alpha1 protocol of another name, a start above the end, a newer CRD's field)."""

    entry: ClusterPolicyPort
    protocol: Protocol | None
    first: int
    last: int
    name: str
    never: bool


def compile_port(port: ClusterPolicyPort) -> ClusterPort:
    if port.name:
        return ClusterPort(port, None, 0, 0, port.name, False)
    try:
        proto = Protocol(port.protocol)
    except ValueError:
        return ClusterPort(port, None, 0, 0, "", True)
    first, last = max(1, port.first), min(MAX_PORT, port.last)
    return ClusterPort(port, proto, first, last, "", first > last)


@dataclass(frozen=True, slots=True)
class ClusterPeer:
    peer: ClusterPolicyPeer
    selected: ClassSet | None  # classes matched by namespaces/pods; None for addresses
    networks: tuple[IPNetwork, ...]
    node_addresses: frozenset[IPAddress]  # the addresses of the Nodes a nodes peer selects
    block_members: dict[int, ClassSet]  # family -> classes inside networks/node addresses

    def contains(self, addr: IPAddress) -> bool:
        """Does an address (not a pod seen through its class) fall in this peer?"""
        if addr in self.node_addresses:
            return True
        return any(addr.version == net.version and addr in net for net in self.networks)


@dataclass(frozen=True, slots=True, eq=False)  # compared (and hashed) by identity
class CompiledClusterRule:
    """One rule of a cluster policy, compiled. ``action`` is what it does when it matches:
    a rule with a peer that sets no known field fails closed (upstream): an Accept rule
    then matches nothing of that peer, a Deny or Pass rule becomes a Deny of everything
    (``all_peers`` and ``any_port``)."""

    policy: int  # index into the engine's cluster policies
    direction: PolicyType
    index: int
    rule: ClusterPolicyRule
    action: RuleAction
    fail_closed: bool
    all_peers: bool
    peers: tuple[ClusterPeer, ...]
    selected: ClassSet  # union of the selector peers' classes
    block_members: dict[int, ClassSet]  # family -> union of the address peers' classes
    any_port: bool
    ports: tuple[ClusterPort, ...]

    def peer_classes(self, family: int) -> ClassSet:
        if family in self.block_members:
            return self.selected | self.block_members[family]
        return self.selected

    @property
    def named(self) -> tuple[str, ...]:
        return tuple(sorted({p.name for p in self.ports if p.name}))


@dataclass(frozen=True, slots=True)
class CompiledClusterPolicy:
    policy: ClusterNetworkPolicy
    subjects: ClassSet
    rules: dict[PolicyType, tuple[CompiledClusterRule, ...]]


class TierCompiler:
    """Compiles cluster policies with the indexes of the engine's ``Compiler``."""

    def __init__(self, compiler: Compiler, nodes: Sequence[NodeInfo]) -> None:
        self.compiler = compiler
        self.nodes = nodes
        self._n = len(compiler.classes)

    def _namespaces(self, selector: LabelSelector) -> ClassSet:
        c = self.compiler
        return c.pod_network & c.namespaces_matching(c.ns_index.select(selector))

    def subjects(self, subject: ClusterPolicySubject) -> ClassSet:
        """Pod-network classes the subject selects (host-network pods never are)."""
        if subject.namespaces is not None:
            return self._namespaces(subject.namespaces)
        if subject.pods is not None:
            return self.compiler.select(self._namespaces(subject.pods.namespace_selector),
                                        subject.pods.pod_selector)
        return self._none()

    def peer(self, peer: ClusterPolicyPeer) -> ClusterPeer:
        empty: dict[int, ClassSet] = {}
        if peer.namespaces is not None or peer.pods is not None:
            subject = ClusterPolicySubject(peer.namespaces, peer.pods)
            return ClusterPeer(peer, self.subjects(subject), (), frozenset(), empty)
        networks = networks_of(peer)
        addresses = node_addresses(peer, self.nodes)
        members: dict[int, ClassSet] = {}
        blocks = [Block(net, ()) for net in networks]
        blocks += [Block(effective_network(_host_network(a)), ()) for a in sorted(
            addresses, key=lambda a: (a.version, int(a)))]
        for block in blocks:
            for family, inside in self.compiler.block_members(block).items():
                members[family] = members.get(family, self._none()) | inside
        return ClusterPeer(peer, None, networks, addresses, members)

    def _none(self) -> ClassSet:
        return ClassSet.empty(self._n)

    def rule(self, policy_index: int, direction: PolicyType, index: int,
             rule: ClusterPolicyRule) -> CompiledClusterRule:
        peers = tuple(self.peer(p) for p in rule.peers)
        fail_closed = any(p.fails_closed for p in rule.peers)
        action, all_peers = rule_action(rule)
        selected = self._none()
        blocks: dict[int, ClassSet] = {}
        for cp in peers:
            if cp.selected is not None:
                selected = selected | cp.selected
            for family, inside in cp.block_members.items():
                blocks[family] = blocks.get(family, self._none()) | inside
        if all_peers:
            selected = ClassSet.full(self._n)
        ports = tuple(compile_port(p) for p in rule.ports or ())
        return CompiledClusterRule(
            policy=policy_index, direction=direction, index=index, rule=rule, action=action,
            fail_closed=fail_closed, all_peers=all_peers, peers=peers, selected=selected,
            block_members=blocks, any_port=rule.ports is None or all_peers, ports=ports,
        )

    def policy(self, index: int, policy: ClusterNetworkPolicy) -> CompiledClusterPolicy:
        rules = {
            direction: tuple(self.rule(index, direction, i, r)
                             for i, r in enumerate(policy.rules(direction)))
            for direction in (PolicyType.INGRESS, PolicyType.EGRESS)
        }
        return CompiledClusterPolicy(policy, self.subjects(policy.subject), rules)


Stack = tuple[CompiledClusterRule, ...]


@dataclass(frozen=True, slots=True)
class Tiers:
    """The compiled cluster policies and, per tier, direction and class, the class's stack
    (numbered: classes with the same rules share a stack number; 0 is no rule at all)."""

    compiled: tuple[CompiledClusterPolicy, ...]
    stacks: dict[tuple[Tier, PolicyType], list[Stack]]  # stack number -> rules
    stack_of: dict[tuple[Tier, PolicyType], npt.NDArray[np.int64]]  # class -> stack number

    def stack(self, tier: Tier, direction: PolicyType, cls: int) -> Stack:
        return self.stacks[tier, direction][int(self.stack_of[tier, direction][cls])]

    @property
    def empty(self) -> bool:
        return not self.compiled


def build_tiers(compiler: TierCompiler, policies: Sequence[ClusterNetworkPolicy],
                classes: int) -> Tiers:
    compiled = tuple(compiler.policy(i, p) for i, p in enumerate(policies))
    stacks: dict[tuple[Tier, PolicyType], list[Stack]] = {}
    stack_of: dict[tuple[Tier, PolicyType], npt.NDArray[np.int64]] = {}
    for tier in Tier:
        order = ordered(policies, tier)
        if order:
            # Which of the tier's policies select each class, as one row of bits per class.
            selects = np.stack([compiled[i].subjects.dense() for i in order], axis=1)
            _, first, inverse = np.unique(selects, axis=0, return_index=True,
                                          return_inverse=True)
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            if not order:
                stacks[tier, direction] = [()]
                stack_of[tier, direction] = np.zeros(classes, dtype=np.int64)
                continue
            numbered: dict[Stack, int] = {(): 0}  # stack 0 is always the empty one
            local = np.empty(len(first), dtype=np.int64)
            for u, row in enumerate(first):
                stack = tuple(rule for k, i in enumerate(order) if selects[row, k]
                              for rule in compiled[i].rules[direction])
                local[u] = numbered.setdefault(stack, len(numbered))
            stacks[tier, direction] = list(numbered)
            stack_of[tier, direction] = local[np.asarray(inverse).ravel()]
    return Tiers(compiled, stacks, stack_of)


def rule_action(rule: ClusterPolicyRule) -> tuple[RuleAction, bool]:
    """What a rule does, and whether to every peer and port: a rule with a peer that sets
    no known field fails closed (upstream), an Accept then matching nothing of that peer, a
    Deny or Pass becoming a Deny of everything."""
    if rule.action is not RuleAction.ACCEPT and any(p.fails_closed for p in rule.peers):
        return RuleAction.DENY, True
    return rule.action, False


# The same selection, one pod at a time (the node agent follows pods as they come): checked
# against ``TierCompiler`` by the agent's property tests.

def subject_selects(subject: ClusterPolicySubject, pod: Pod,
                    namespace_labels: Mapping[str, str]) -> bool:
    """Whether a cluster policy's subject (or a ``namespaces``/``pods`` peer, which select
    alike) selects ``pod``, whose namespace carries ``namespace_labels``."""
    if pod.host_network:
        return False
    if subject.namespaces is not None:
        return selector_matches(subject.namespaces, namespace_labels)
    if subject.pods is not None:
        return (selector_matches(subject.pods.namespace_selector, namespace_labels)
                and selector_matches(subject.pods.pod_selector, pod.labels))
    return False


def node_addresses(peer: ClusterPolicyPeer, nodes: Sequence[NodeInfo]) -> frozenset[IPAddress]:
    """The addresses of the Nodes a ``nodes`` peer selects."""
    if peer.nodes is None:
        return frozenset()
    return frozenset(addr for labels, ips in nodes if selector_matches(peer.nodes, labels)
                     for addr in ips)


def domain_matches(pattern: str, name: str) -> bool:
    """Upstream's DomainName: an exact name, or ``*.`` and one or more whole labels before
    the rest (``*.kubernetes.io`` matches ``a.b.kubernetes.io``, not ``kubernetes.io``).
    Names compare as DNS does: case-insensitively, a trailing dot ignored."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return name.endswith(suffix) and len(name) > len(suffix)
    return name == pattern
