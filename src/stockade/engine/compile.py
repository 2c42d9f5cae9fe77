"""Policies compiled once into matchers over behaviour classes.

Each rule becomes: the classes its peers match (selector part, plus an ipBlock part per IP
family), and its port entries (numbers and ranges, protocol-only, named).
Each policy becomes: the classes it selects. Nothing here is evaluated per pair of pods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from stockade.engine.classes import FAMILIES, BehaviourClass, Regions
from stockade.engine.classset import ClassSet, union_all
from stockade.engine.ports import MAX_PORT
from stockade.engine.selectors import BoolArray, LabelIndex
from stockade.model.netparse import IPAddress, IPNetwork, effective_network, parse_cidr
from stockade.model.selectors import selector_matches
from stockade.model.types import (
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    Pod,
    PolicyType,
    Protocol,
)

EMPTY_SELECTOR = LabelSelector()
PROTOCOL_OF = {p.value: p for p in Protocol}  # ``Protocol(text)`` without its exception


class Block(msgspec.Struct, frozen=True):
    """An ipBlock with its networks normalised (host bits masked, IPv4-mapped unwrapped)."""

    network: IPNetwork
    excepts: tuple[IPNetwork, ...]

    def contains(self, addr: IPAddress) -> bool:
        """Inside ``network`` and inside none of ``excepts`` (families never mix)."""
        if addr.version != self.network.version or addr not in self.network:
            return False
        return not any(addr.version == ex.version and addr in ex for ex in self.excepts)


SCAN_LIMIT = 8  # ipBlock peers of one family tested one by one; more are looked up at once


class BlockIndex(msgspec.Struct, frozen=True, eq=False):
    """The ipBlock peers of one rule, per family, so that the first one containing an
    address is found with a few vector operations however many there are (the vectors are
    built on first use: most rules are never asked about an address; so two indexes are
    equal only if they are the same object, whatever their caches hold)."""

    peers: dict[int, tuple[tuple[int, Block], ...]]  # family -> (peer index, block), in order
    _ranges: dict[int, tuple[npt.NDArray[Any], npt.NDArray[Any]]] = msgspec.field(
        default_factory=dict)

    @classmethod
    def of(cls, peers: Sequence[CompiledPeer]) -> BlockIndex:
        by_family: dict[int, list[tuple[int, Block]]] = {}
        for j, cp in enumerate(peers):
            if cp.block is not None:
                by_family.setdefault(cp.block.network.version, []).append((j, cp.block))
        return cls({f: tuple(found) for f, found in by_family.items()})

    def _firsts_lasts(self, family: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        found = self._ranges.get(family)
        if found is None:
            nets = [b.network for _, b in self.peers[family]]
            # IPv6 addresses exceed 64 bits: compared as Python integers.
            dtype: Any = np.int64 if family == 4 else object
            found = (np.array([int(n.network_address) for n in nets], dtype=dtype),
                     np.array([int(n.network_address) + n.num_addresses - 1 for n in nets],
                              dtype=dtype))
            self._ranges[family] = found
        return found

    def first_containing(self, addr: IPAddress) -> int | None:
        """The index (in the rule's peers) of the first ipBlock peer containing ``addr``."""
        found = self.peers.get(addr.version, ())
        if len(found) > SCAN_LIMIT:
            firsts, lasts = self._firsts_lasts(addr.version)
            value = int(addr)
            inside = (firsts <= value) & (value <= lasts)
            found = tuple(found[int(k)] for k in np.flatnonzero(inside))
        return next((j for j, block in found if block.contains(addr)), None)


def normalise_block(block: IPBlock) -> Block | None:
    net = parse_cidr(block.cidr)
    if net is None:
        return None
    excepts = tuple(
        effective_network(e) for e in (parse_cidr(x) for x in block.except_) if e is not None
    )
    return Block(effective_network(net), excepts)


class CompiledPeer(msgspec.Struct, frozen=True):
    peer: NetworkPolicyPeer
    selected: ClassSet | None  # classes matched by the selectors; None for an ipBlock peer
    block: Block | None
    block_members: dict[int, ClassSet]  # family -> classes whose address is inside


class CompiledPort(msgspec.Struct, frozen=True):
    port: NetworkPolicyPort
    protocol: Protocol
    first: int  # numeric range, or 1..65535 for protocol-only entries
    last: int
    name: str  # named port, "" for numeric/protocol-only


class CompiledRule(msgspec.Struct, frozen=True):
    policy: int  # index into the engine's policy list
    direction: PolicyType
    index: int  # position in spec.ingress / spec.egress
    rule: NetworkPolicyRule
    any_peer: bool
    peers: tuple[CompiledPeer, ...]
    selected: ClassSet  # union of the selector peers
    block_members: dict[int, ClassSet]  # family -> union of the ipBlock peers
    any_port: bool
    ports: tuple[CompiledPort, ...]
    named: tuple[tuple[Protocol, str], ...]
    blocks: BlockIndex
    by_family: dict[int, ClassSet] = msgspec.field(default_factory=dict)

    def peer_classes(self, family: int) -> ClassSet:
        """The classes the peers match for connections of ``family`` (selectors, and the
        ipBlocks of that family)."""
        return self.by_family.get(family, self.selected)


class CompiledPolicy(msgspec.Struct, frozen=True):
    policy: NetworkPolicy
    subjects: ClassSet  # classes the policy selects
    rules: dict[PolicyType, tuple[CompiledRule, ...]]


SCAN_SELECTORS = 256  # candidate classes tested one by one; more are looked up in the index


class Compiler:
    """Holds the indexes shared by all policies of one cluster while compiling them. Class
    sets are sparse (``ClassSet``); a selector is evaluated on the classes of the namespaces
    it can reach, so compiling costs what the policies select, not policies times classes."""

    def __init__(
        self,
        classes: Sequence[BehaviourClass],
        namespaces: Sequence[Namespace],
        regions: Regions,
    ) -> None:
        self.classes = classes
        self.regions = regions
        self.size = n = len(classes)
        self.pod_network = ~ClassSet.of(n, [c.index for c in classes if c.host_network])
        self.class_labels = [dict(c.labels) for c in classes]
        self._class_index: LabelIndex | None = None  # built on first use (``class_index``)
        self._with_label: dict[tuple[str, str], set[int]] = {}  # label -> classes with it
        for c, labels in enumerate(self.class_labels):
            for label in labels.items():
                self._with_label.setdefault(label, set()).add(c)
        self.ns_names = [ns.name for ns in namespaces]
        self.ns_index = LabelIndex([ns.labels for ns in namespaces])
        ns_position = {name: i for i, name in enumerate(self.ns_names)}
        by_ns: list[list[int]] = [[] for _ in self.ns_names]
        for cls in classes:
            by_ns[ns_position[cls.namespace]].append(cls.index)
        self.ns_classes = [np.array(m, dtype=np.int32) for m in by_ns]
        self.ns_members = {name: ClassSet.of(n, self.ns_classes[i])
                           for name, i in ns_position.items()}
        self.region_of = {
            f: np.array([c.regions[i] for c in classes], dtype=np.int64)
            for i, f in enumerate(FAMILIES)
        }
        self._none = ClassSet.empty(n)
        self._all = ClassSet.full(n)
        self._block_cache: dict[Block, dict[int, ClassSet]] = {}
        self._ns_cache: dict[bytes, ClassSet] = {}
        self._selection_cache: dict[tuple[object, ...], ClassSet] = {}
        self._unions: dict[tuple[int, ...], tuple[tuple[ClassSet, ...], ClassSet]] = {}
        # The pod-network classes a selector chooses from: per namespace, per namespace
        # selector.
        self._local: dict[str, ClassSet] = {}
        self._across: dict[LabelSelector, ClassSet] = {}

    @property
    def class_index(self) -> LabelIndex:
        """The classes' labels indexed, for selections too wide to scan (none in a small
        cluster: built when first asked for)."""
        if self._class_index is None:
            self._class_index = LabelIndex(self.class_labels)
        return self._class_index

    def in_namespace(self, namespace: str) -> ClassSet:
        return self.ns_members.get(namespace, self._none)

    def namespaces_matching(self, selected: BoolArray) -> ClassSet:
        """The classes living in the selected namespaces (cached per selection)."""
        key = selected.tobytes()
        cached = self._ns_cache.get(key)
        if cached is None:
            chosen = [self.ns_classes[i] for i in np.flatnonzero(selected)]
            cached = ClassSet.of(self.size, np.concatenate(chosen) if chosen else [])
            self._ns_cache[key] = cached
        return cached

    def select(self, candidates: ClassSet, selector: LabelSelector) -> ClassSet:
        """The candidates whose labels the selector matches."""
        if selector.is_empty:
            return candidates
        if not candidates.inverted and len(candidates.indices) <= SCAN_SELECTORS:
            labels = self.class_labels
            pool = candidates.indices.tolist()
            if selector.match_labels:  # only the classes with its first label can match
                having = self._with_label.get(selector.match_labels[0], set())
                pool = [c for c in pool if c in having]
            return ClassSet.of_sorted(self.size, [c for c in pool
                                                  if selector_matches(selector, labels[c])])
        return candidates & ClassSet.of_mask(self.class_index.select(selector))

    def local_candidates(self, namespace: str) -> ClassSet:
        """The pod-network classes of a namespace (what its policies' selectors choose
        from), once per namespace."""
        found = self._local.get(namespace)
        if found is None:
            found = self._local[namespace] = self.pod_network & self.in_namespace(namespace)
        return found

    def namespace_candidates(self, ns_selector: LabelSelector) -> ClassSet:
        """The pod-network classes of the namespaces a namespace selector chooses, once
        per selector."""
        found = self._across.get(ns_selector)
        if found is None:
            found = self._across[ns_selector] = self.pod_network & self.namespaces_matching(
                self.ns_index.select(ns_selector))
        return found

    def _selection(self, key: tuple[object, ...], make: Callable[[], ClassSet]) -> ClassSet:
        found = self._selection_cache.get(key)
        if found is None:
            found = self._selection_cache[key] = make()
        return found

    def union(self, sets: Sequence[ClassSet]) -> ClassSet:
        """``union_all`` of ``sets``, once per combination: the sets are the compiler's own
        (cached per selector, ipBlock or combination), so the same peers met in another
        rule or policy (a shared namespace selector, say) are not sorted together again."""
        key = tuple(map(id, sets))
        found = self._unions.get(key)
        if found is None:
            # The sets are kept with the union: their ids name them for as long as it lives.
            found = self._unions[key] = (tuple(sets), union_all(self.size, sets))
        return found[1]

    def block_members(self, block: Block) -> dict[int, ClassSet]:
        cached = self._block_cache.get(block)
        if cached is not None:
            return cached
        family = block.network.version
        regions = self.region_of[family]
        first, last = self.regions.span(block.network)
        inside = (regions >= first) & (regions < last)
        for ex in block.excepts:
            if ex.version == family:
                lo, hi = self.regions.span(ex)
                inside &= ~((regions >= lo) & (regions < hi))
        result: dict[int, ClassSet] = {family: ClassSet.of_mask(inside)}
        self._block_cache[block] = result
        return result

    def peer(self, peer: NetworkPolicyPeer, namespace: str) -> CompiledPeer:
        if peer.ip_block is not None:
            block = normalise_block(peer.ip_block)
            members = self.block_members(block) if block else {}
            return CompiledPeer(peer, None, block, members)
        pod_selector = peer.pod_selector or EMPTY_SELECTOR
        if peer.namespace_selector is not None:
            ns_selector = peer.namespace_selector
            selected = self._selection(
                ("ns", ns_selector, pod_selector),
                lambda: self.select(self.namespace_candidates(ns_selector), pod_selector))
        else:
            selected = self._selection(
                ("local", namespace, pod_selector),
                lambda: self.select(self.local_candidates(namespace), pod_selector))
        return CompiledPeer(peer, selected, None, {})

    def port(self, port: NetworkPolicyPort) -> CompiledPort | None:
        return compile_port(port)

    def rule(self, policy_index: int, policy: NetworkPolicy, direction: PolicyType,
             index: int, rule: NetworkPolicyRule) -> CompiledRule:
        peers = tuple([self.peer(p, policy.namespace) for p in rule.peers])
        selected = self.union([cp.selected for cp in peers if cp.selected is not None])
        per_family: dict[int, list[ClassSet]] = {}
        for cp in peers:
            for family, members in cp.block_members.items():
                per_family.setdefault(family, []).append(members)
        blocks = {family: self.union(sets) for family, sets in per_family.items()}
        ports = tuple([p for p in map(compile_port, rule.ports) if p is not None])
        any_peer = not rule.peers
        if any_peer:
            selected = self._all
        return CompiledRule(
            policy=policy_index, direction=direction, index=index, rule=rule,
            any_peer=any_peer, peers=peers, selected=selected, block_members=blocks,
            any_port=not rule.ports, ports=ports,
            named=tuple(sorted({(p.protocol, p.name) for p in ports if p.name})),
            blocks=BlockIndex.of(peers),
            by_family={f: self.union([selected, members]) for f, members in blocks.items()},
        )

    def policy(self, index: int, policy: NetworkPolicy) -> CompiledPolicy:
        subjects = self._selection(
            ("local", policy.namespace, policy.pod_selector),
            lambda: self.select(self.local_candidates(policy.namespace), policy.pod_selector))
        rules: dict[PolicyType, tuple[CompiledRule, ...]] = {}
        for direction, spec_rules in ((PolicyType.INGRESS, policy.ingress),
                                      (PolicyType.EGRESS, policy.egress)):
            if policy.applies_to(direction):
                rules[direction] = tuple(
                    self.rule(index, policy, direction, i, r) for i, r in enumerate(spec_rules)
                )
        return CompiledPolicy(policy, subjects, rules)


def compile_port(port: NetworkPolicyPort) -> CompiledPort | None:
    """A ``ports`` entry as numbers (``None``: a protocol validation refuses)."""
    proto = PROTOCOL_OF.get(port.protocol)
    if proto is None:
        return None
    if isinstance(port.port, str):
        return CompiledPort(port, proto, 0, 0, port.port)
    if port.port is None:
        return CompiledPort(port, proto, 1, MAX_PORT, "")
    last = port.end_port if port.end_port is not None else port.port
    return CompiledPort(port, proto, port.port, last, "")


# The same selection, one pod at a time: for a dataplane that follows pods as they come
# and go (the node agent) instead of compiling a whole cluster at once. Property tests
# check these against ``Compiler.policy`` and ``Compiler.peer``.

def policy_selects(policy: NetworkPolicy, pod: Pod) -> bool:
    """Whether ``policy`` selects ``pod`` as a subject (its own namespace, pod network)."""
    return (not pod.host_network and pod.namespace == policy.namespace
            and selector_matches(policy.pod_selector, pod.labels))


def peer_selects(peer: NetworkPolicyPeer, policy_namespace: str, pod: Pod,
                 namespace_labels: Mapping[str, str]) -> bool:
    """Whether a selector peer (not an ipBlock) of a policy in ``policy_namespace`` matches
    ``pod``, whose namespace carries ``namespace_labels``."""
    if peer.ip_block is not None or pod.host_network:
        return False
    if peer.namespace_selector is None:
        if pod.namespace != policy_namespace:
            return False
    elif not selector_matches(peer.namespace_selector, namespace_labels):
        return False
    return peer.pod_selector is None or selector_matches(peer.pod_selector, pod.labels)


def policy_blocks(
    policies: Sequence[NetworkPolicy],
) -> list[tuple[IPNetwork, tuple[IPNetwork, ...]]]:
    """Every distinct ipBlock of the policies, normalised."""
    blocks: dict[Block, None] = {}
    for policy in policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is not None:
                    block = normalise_block(peer.ip_block)
                    if block is not None:
                        blocks[block] = None
    return [(b.network, b.excepts) for b in blocks]
