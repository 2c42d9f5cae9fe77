"""The resolved rules of one node's pods, kept up to date while API objects come and go.

A node agent enforces the egress side of the pods on its node and the ingress side of the
pods on its node; their peers may be anywhere in the cluster. Building an ``Engine`` for
every pod that starts would cost the whole cluster each time. This keeps only what the
node's pods need: the rules of the policies that isolate each of them, and for every
selector peer of those rules the pods it matches, tested one pod at a time with the
engine's own selection (``policy_selects``, ``peer_selects``). Each change reports what it
touched (``Touched``), so that the dataplane redoes only that. Cluster-wide policies
likewise: each pod's stack of their rules per tier, in tier order (``engine.tiers``), with
its ``namespaces``/``pods`` peers kept the same way. Pure: no I/O. Property tests check
``pod_rules`` against ``Engine.pod_rules`` after any sequence of changes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from stockade.engine.classes import pod_addresses
from stockade.engine.compile import (
    compile_port,
    normalise_block,
    peer_selects,
    policy_selects,
)
from stockade.engine.nodes import NodeAddresses, parse_addresses
from stockade.engine.resolve import resolve_cluster_ports, resolve_ports
from stockade.engine.resolved import (
    NamedPort,
    PodRules,
    PortRange,
    ResolvedBlock,
    ResolvedClusterRule,
    ResolvedPeers,
    ResolvedRule,
)
from stockade.engine.tiers import (
    NodeInfo,
    networks_of,
    node_addresses,
    ordered,
    rule_action,
    subject_selects,
)
from stockade.engine.tiers import compile_port as compile_cluster_port
from stockade.model.netparse import IPAddress, effective_network
from stockade.model.types import (
    ClusterNetworkPolicy,
    ClusterPolicyRule,
    ClusterPolicySubject,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyRule,
    Node,
    ObjectMeta,
    Pod,
    PolicyType,
    RuleAction,
    Tier,
)

DIRECTIONS = (PolicyType.INGRESS, PolicyType.EGRESS)
TIERS = (Tier.ADMIN, Tier.BASELINE)


@dataclass(frozen=True, slots=True)
class PeerKey:
    """What a selector peer matches, whichever policy it is written in: the namespace of
    the policy when the peer has no ``namespaceSelector`` (else ``None``), and the two
    selectors."""

    namespace: str | None
    namespace_selector: LabelSelector | None
    pod_selector: LabelSelector | None

    def selects(self, pod: Pod, namespace_labels: Mapping[str, str]) -> bool:
        peer = NetworkPolicyPeer(self.pod_selector, self.namespace_selector)
        return peer_selects(peer, self.namespace or "", pod, namespace_labels)


@dataclass(frozen=True, slots=True)
class ClusterPeerKey:
    """What a cluster policy's ``namespaces`` or ``pods`` peer matches (any namespace)."""

    subject: ClusterPolicySubject
    namespace: None = None  # namespace-dependent: a namespace's labels can change it

    def selects(self, pod: Pod, namespace_labels: Mapping[str, str]) -> bool:
        return subject_selects(self.subject, pod, namespace_labels)


AnyPeerKey = PeerKey | ClusterPeerKey


def _peer_key(peer: NetworkPolicyPeer, namespace: str) -> PeerKey:
    own = namespace if peer.namespace_selector is None else None
    return PeerKey(own, peer.namespace_selector, peer.pod_selector)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """One allow rule of one policy as it applies to one subject pod: the rule, and its
    ports resolved for that subject. Equal refs allow the same traffic, whoever holds them;
    pods holding equal tuples of refs share one chain of the ruleset."""

    policy: str  # "ns/name"
    direction: PolicyType
    index: int
    rule: NetworkPolicyRule
    ports: tuple[PortRange, ...] | None  # None: the rule names no ports (all of them)
    named: tuple[NamedPort, ...] = ()
    # Derived from the rule and the policy's namespace; not part of identity.
    blocks: tuple[ResolvedBlock, ...] = field(default=(), compare=False)
    peer_keys: tuple[PeerKey, ...] = field(default=(), compare=False)

    @property
    def any_peer(self) -> bool:
        return not self.rule.peers


def _rule_ref(policy: NetworkPolicy, direction: PolicyType, index: int,
              rule: NetworkPolicyRule, subject: Pod) -> RuleRef:
    blocks: list[ResolvedBlock] = []
    keys: list[PeerKey] = []
    for peer in rule.peers:
        if peer.ip_block is not None:
            block = normalise_block(peer.ip_block)
            if block is not None:
                blocks.append(ResolvedBlock(block.network, block.excepts))
        else:
            keys.append(_peer_key(peer, policy.namespace))
    ports: tuple[PortRange, ...] | None = None
    named: tuple[NamedPort, ...] = ()
    if rule.ports:
        compiled = [cp for cp in (compile_port(p) for p in rule.ports) if cp is not None]
        ports, named = resolve_ports(compiled, direction, subject)
    return RuleRef(policy.key, direction, index, rule, ports, named, tuple(blocks),
                   tuple(dict.fromkeys(keys)))


Rules = tuple[RuleRef, ...] | None  # None: not isolated in that direction


@dataclass(frozen=True, slots=True)
class ClusterRuleRef:
    """One rule of a cluster-wide policy as it applies to one subject pod, in tier order:
    what it does, to whom (the addresses of ``networks`` and of the selected Nodes are part
    of it: a Node change makes a new ref) and on which ports."""

    policy: str  # "Kind/name"
    direction: PolicyType
    index: int
    rule: ClusterPolicyRule
    action: RuleAction
    all_peers: bool  # a rule failing closed: every peer and port
    ports: tuple[PortRange, ...] | None
    named: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    blocks: tuple[ResolvedBlock, ...] = ()
    peer_keys: tuple[ClusterPeerKey, ...] = field(default=(), compare=False)


def _cluster_ref(policy: ClusterNetworkPolicy, direction: PolicyType, index: int, *,
                 subject: Pod, nodes: Sequence[NodeInfo]) -> ClusterRuleRef:
    rule = policy.rules(direction)[index]
    action, all_peers = rule_action(rule)
    if all_peers:
        return ClusterRuleRef(policy.key, direction, index, rule, action, True, None)
    keys = tuple(dict.fromkeys(ClusterPeerKey(ClusterPolicySubject(p.namespaces, p.pods))
                               for p in rule.peers
                               if p.namespaces is not None or p.pods is not None))
    blocks = [ResolvedBlock(net) for p in rule.peers for net in networks_of(p)]
    blocks += [ResolvedBlock(effective_network(ipaddress.ip_network(a))) for p in rule.peers
               for a in sorted(node_addresses(p, nodes), key=lambda a: (a.version, a))]
    domains = tuple(d for p in rule.peers for d in p.domain_names)
    ports: tuple[PortRange, ...] | None = None
    named: tuple[str, ...] = ()
    if rule.ports is not None:
        ports, named = resolve_cluster_ports([compile_cluster_port(p) for p in rule.ports],
                                             direction, subject)
    return ClusterRuleRef(policy.key, direction, index, rule, action, False, ports, named,
                          domains, tuple(blocks), keys)


Stack = tuple[ClusterRuleRef, ...]


@dataclass(slots=True)
class Touched:
    """What a batch of changes touched, for the dataplane to redo.

    ``subjects``: pods of this node (now or before) whose rules, addresses or presence may
    have changed. ``peers``: pods anywhere whose addresses, named ports or membership in a
    peer may have changed (their addresses before the change are the dataplane's to keep).
    ``node``: the node's own addresses may have changed."""

    subjects: set[str] = field(default_factory=set)
    peers: set[str] = field(default_factory=set)
    node: bool = False

    def __bool__(self) -> bool:
        return bool(self.subjects or self.peers or self.node)

    def merge(self, other: Touched) -> None:
        self.subjects |= other.subjects
        self.peers |= other.peers
        self.node = self.node or other.node


class NodeRules:
    """The cluster as one node's pods see it. Mutable; every change returns ``Touched``."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._reset()

    def _reset(self) -> None:
        self.pods: dict[str, Pod] = {}
        self.namespaces: dict[str, Namespace] = {}
        self.policies: dict[str, NetworkPolicy] = {}
        self.nodes: dict[str, Node] = {}
        self._in_namespace: dict[str, set[str]] = {}  # namespace -> pod keys
        self._policies_in: dict[str, set[str]] = {}  # namespace -> policy keys
        self._claims: dict[IPAddress, list[str]] = {}  # address -> pods claiming it, in order
        self._addresses: dict[str, tuple[IPAddress, ...]] = {}  # pod -> addresses it owns
        self._local: set[str] = set()
        self._on_node: set[str] = set()  # every pod naming this node, host-network ones too
        self._rules: dict[str, dict[PolicyType, Rules]] = {}  # local pod -> direction -> rules
        self._members: dict[AnyPeerKey, set[str]] = {}  # peers in use -> pods they match
        self._uses: dict[AnyPeerKey, int] = {}
        self.cluster_policies: dict[str, ClusterNetworkPolicy] = {}
        # local pod -> (tier, direction) -> the cluster rules that apply to it
        self._stacks: dict[str, dict[tuple[Tier, PolicyType], Stack]] = {}
        self._host_network: dict[IPAddress, set[str]] = {}  # address -> host-network pods
        self._own: dict[str, frozenset[IPAddress]] = {}  # local pod -> its node's addresses

    # --- reading --------------------------------------------------------------------------

    @property
    def local(self) -> frozenset[str]:
        """The pods this node enforces: pod-network pods whose ``spec.nodeName`` is it."""
        return frozenset(self._local)

    def rules(self, key: str, direction: PolicyType) -> Rules:
        return self._rules[key][direction]

    def stack(self, key: str, tier: Tier, direction: PolicyType) -> Stack:
        """The cluster rules of ``tier`` that apply to local pod ``key``, in tier order."""
        return self._stacks[key][tier, direction]

    def addresses(self, key: str) -> tuple[IPAddress, ...]:
        """The pod's addresses that are its own (an address two pods claim is the later
        one's); empty for a host-network pod, which is node traffic."""
        return self._addresses.get(key, ())

    def owner(self, address: IPAddress) -> str | None:
        claims = self._claims.get(address)
        return claims[-1] if claims else None

    def own_addresses(self, key: str) -> frozenset[IPAddress]:
        """The addresses of the node a local pod runs on (see ``engine.nodes``)."""
        return self._own.get(key, frozenset())

    def peer_members(self) -> Iterator[tuple[AnyPeerKey, frozenset[str]]]:
        for key, members in self._members.items():
            yield key, frozenset(members)

    def contains(self, ref: RuleRef | ClusterRuleRef, pod: str) -> bool:
        """Whether a selector peer of ``ref`` matches ``pod``."""
        return any(pod in self._members[k] for k in ref.peer_keys)

    def resolved(self, ref: RuleRef, only: str | None = None) -> ResolvedRule:
        """``ref`` with its peers resolved to pods; ``only``: as if ``only`` were the one
        pod in the cluster (what a single address needs)."""
        if ref.any_peer:
            peers = ResolvedPeers(True)
        else:
            if only is None:
                pods = frozenset().union(*(self._members[k] for k in ref.peer_keys))
            else:
                pods = frozenset((only,)) if self.contains(ref, only) else frozenset()
            peers = ResolvedPeers(False, pods, ref.blocks)
        return ResolvedRule(ref.policy, ref.index, peers, ref.ports, ref.named)

    def resolved_cluster(self, ref: ClusterRuleRef, only: str | None = None
                         ) -> ResolvedClusterRule:
        """A cluster ``ref`` with its peers resolved (``only`` as for ``resolved``)."""
        if ref.all_peers:
            return ResolvedClusterRule(ref.policy, ref.index, ref.action, ResolvedPeers(True),
                                       None)
        if only is None:
            pods = frozenset().union(*(self._members[k] for k in ref.peer_keys))
        else:
            pods = frozenset((only,)) if self.contains(ref, only) else frozenset()
        return ResolvedClusterRule(ref.policy, ref.index, ref.action,
                                   ResolvedPeers(False, pods, ref.blocks), ref.ports,
                                   ref.named, ref.domains)

    def pod_rules(self, key: str, direction: PolicyType) -> PodRules:
        """What ``Engine.pod_rules`` answers for a pod of this node."""
        rules = self._rules[key][direction]
        admin = tuple(self.resolved_cluster(r) for r in self.stack(key, Tier.ADMIN, direction))
        baseline = tuple(self.resolved_cluster(r)
                         for r in self.stack(key, Tier.BASELINE, direction))
        return PodRules(key, rules is not None, tuple(self.resolved(r) for r in rules or ()),
                        admin, baseline)

    # --- changing --------------------------------------------------------------------------

    def load(self, pods: Iterable[Pod], namespaces: Iterable[Namespace],
             policies: Iterable[NetworkPolicy], nodes: Iterable[Node],
             cluster_policies: Iterable[ClusterNetworkPolicy] = ()) -> Touched:
        """Replace everything (a first list, or a relist); every pod counts as touched."""
        before = set(self.pods) | set(self._local)
        self._reset()
        for ns in namespaces:
            self.namespaces[ns.name] = ns
        for policy in policies:
            self.policies[policy.key] = policy
            self._policies_in.setdefault(policy.namespace, set()).add(policy.key)
        for node in nodes:
            self.nodes[node.name] = node
        for cluster_policy in cluster_policies:
            self.cluster_policies[cluster_policy.key] = cluster_policy
        for pod in pods:
            self._store(pod.key, pod)
        for key in self._local:
            self._subject(key)
        self._own_addresses()
        everyone = before | set(self.pods)
        return Touched(subjects=before | set(self._local), peers=everyone, node=True)

    def set_pod(self, key: str, pod: Pod | None) -> Touched:
        """Add, change (``pod``) or remove (``None``) the pod ``ns/name``."""
        touched = Touched()
        old = self.pods.get(key)
        if old is None and pod is None:
            return touched
        was_local = key in self._local
        old_addresses = self._addresses.get(key, ())
        losers = self._store(key, pod)
        now_addresses = self._addresses.get(key, ())
        if (old is None or pod is None or old_addresses != now_addresses
                or old.container_ports() != pod.container_ports()):
            touched.peers.add(key)
        touched.peers |= losers
        for peer_key, members in self._members.items():
            hit = pod is not None and peer_key.selects(pod, self._labels(pod.namespace))
            if hit != (key in members):
                (members.add if hit else members.discard)(key)
                touched.peers.add(key)
        if was_local or key in self._local:
            touched.subjects.add(key)
            self._subject(key)
        touched.subjects |= losers & self._local
        if self._concerns_node(old) or self._concerns_node(pod):
            touched.node = self._own_addresses()
        return touched

    def set_namespace(self, name: str, namespace: Namespace | None) -> Touched:
        """Add, change or remove the Namespace ``name`` (a removed one is implied again:
        its pods keep only the label ``kubernetes.io/metadata.name``)."""
        before = self._labels(name)
        if namespace is None:
            self.namespaces.pop(name, None)
        else:
            self.namespaces[name] = namespace
        touched = Touched()
        if self._labels(name) == before:
            return touched
        # Peer sets first: a subject worked out again below may drop a peer set and take it
        # up again, scanned anew, and the pods that moved in or out would go unreported.
        for peer_key, members in self._members.items():
            if peer_key.namespace is not None:
                continue
            for key in self._in_namespace.get(name, ()):
                hit = peer_key.selects(self.pods[key], self._labels(name))
                if hit != (key in members):
                    (members.add if hit else members.discard)(key)
                    touched.peers.add(key)
        for pod_key in sorted(self._local):
            if self.pods[pod_key].namespace == name and self.cluster_policies:
                touched.subjects |= self._again(pod_key)
        return touched

    def set_policy(self, key: str, policy: NetworkPolicy | None) -> Touched:
        """Add, change or remove the NetworkPolicy ``ns/name``: the pods of this node in its
        namespace have their rules worked out again."""
        old = self.policies.pop(key, None)
        if old is not None:
            self._policies_in[old.namespace].discard(key)
        if policy is not None:
            self.policies[key] = policy
            self._policies_in.setdefault(policy.namespace, set()).add(key)
        touched = Touched()
        namespaces = {p.namespace for p in (old, policy) if p is not None}
        for pod_key in sorted(self._local):
            if self.pods[pod_key].namespace in namespaces:
                touched.subjects |= self._again(pod_key)
        return touched

    def set_cluster_policy(self, key: str, policy: ClusterNetworkPolicy | None) -> Touched:
        """Add, change or remove a cluster-wide policy (``Kind/name``): any pod of this
        node may be its subject, so every one has its tiers worked out again."""
        if policy is None:
            self.cluster_policies.pop(key, None)
        else:
            self.cluster_policies[key] = policy
        touched = Touched()
        for pod_key in sorted(self._local):
            touched.subjects |= self._again(pod_key)
        return touched

    def _again(self, pod_key: str) -> set[str]:
        """Work out local pod ``pod_key``'s rules again; itself if they changed."""
        before = (self._rules.get(pod_key), self._stacks.get(pod_key))
        self._subject(pod_key)
        return {pod_key} if (self._rules.get(pod_key), self._stacks.get(pod_key)) != before \
            else set()

    def set_node(self, name: str, node: Node | None) -> Touched:
        """Add, change or remove a Node: this node's own addresses, and the addresses of
        the cluster rules' ``nodes`` peers."""
        old = self.nodes.pop(name, None)
        if node is not None:
            self.nodes[name] = node
        touched = Touched(node=self._own_addresses() if name == self.node else False)
        moved = (old is None) != (node is None) or (
            old is not None and node is not None
            and (old.metadata.labels, old.ips) != (node.metadata.labels, node.ips))
        if moved and any(p.nodes is not None for c in self.cluster_policies.values()
                         for r in (*c.ingress, *c.egress) for p in r.peers):
            for pod_key in sorted(self._local):
                touched.subjects |= self._again(pod_key)
        return touched

    # --- keeping the indexes ----------------------------------------------------------------

    def _labels(self, namespace: str) -> dict[str, str]:
        found = self.namespaces.get(namespace)
        if found is None:
            found = Namespace(ObjectMeta(namespace), declared=False)
        return found.labels

    def _store(self, key: str, pod: Pod | None) -> set[str]:
        """Keep ``pod`` under ``key`` with its indexes; the pods whose addresses changed
        because ``key`` took or released an address they claim too."""
        old = self.pods.pop(key, None)
        affected: set[str] = set()
        if old is not None:
            self._in_namespace[old.namespace].discard(key)
            for addr in self._claimed(old):
                claims = self._claims[addr]
                was_owner = claims[-1] == key
                claims.remove(key)
                if not claims:
                    del self._claims[addr]
                elif was_owner:
                    affected.add(claims[-1])
            if old.host_network:
                for addr in pod_addresses(old):
                    self._host_network[addr].discard(key)
            self._local.discard(key)
            self._on_node.discard(key)
        if pod is not None:
            self.pods[key] = pod
            self._in_namespace.setdefault(pod.namespace, set()).add(key)
            for addr in self._claimed(pod):
                claims = self._claims.setdefault(addr, [])
                if claims:
                    affected.add(claims[-1])
                claims.append(key)
            if pod.host_network:
                for addr in pod_addresses(pod):
                    self._host_network.setdefault(addr, set()).add(key)
            if pod.spec.node_name == self.node:
                self._on_node.add(key)
                if not pod.host_network:
                    self._local.add(key)
        affected.discard(key)
        for other in (*affected, key):
            self._own_of(other)
        return affected

    @staticmethod
    def _claimed(pod: Pod) -> tuple[IPAddress, ...]:
        return () if pod.host_network else tuple(dict.fromkeys(pod_addresses(pod)))

    def _own_of(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or pod.host_network:
            self._addresses.pop(key, None)
            return
        self._addresses[key] = tuple(a for a in self._claimed(pod)
                                     if self._claims[a][-1] == key)

    def _subject(self, key: str) -> None:
        """Work out the rules of local pod ``key`` (or forget it), and the peers in use."""
        old = self._rules.pop(key, None)
        if old is not None:
            for rules in old.values():
                self._release(rules)
        for stack in self._stacks.pop(key, {}).values():
            self._release(stack)
        if key not in self._local:
            return
        pod = self.pods[key]
        found: dict[PolicyType, Rules] = {}
        selecting = sorted(k for k in self._policies_in.get(pod.namespace, ())
                           if policy_selects(self.policies[k], pod))
        for direction in DIRECTIONS:
            isolating = [self.policies[k] for k in selecting
                         if self.policies[k].applies_to(direction)]
            if not isolating:
                found[direction] = None
                continue
            refs = tuple(
                _rule_ref(p, direction, i, rule, pod)
                for p in isolating
                for i, rule in enumerate(p.ingress if direction is PolicyType.INGRESS
                                         else p.egress))
            found[direction] = refs
            self._acquire(refs)
        self._rules[key] = found
        self._stacks[key] = self._tiers(pod)

    def _tiers(self, pod: Pod) -> dict[tuple[Tier, PolicyType], Stack]:
        """The pod's stack in each tier and direction: the rules of the cluster policies
        selecting it, in tier order (as ``engine.tiers`` orders them)."""
        found: dict[tuple[Tier, PolicyType], Stack] = {}
        policies = list(self.cluster_policies.values())
        labels = self._labels(pod.namespace)
        nodes: list[NodeInfo] = [(n.metadata.label_map, parse_addresses(n.ips))
                                 for n in self.nodes.values()]
        for tier in TIERS:
            selecting = [policies[i] for i in ordered(policies, tier)
                         if subject_selects(policies[i].subject, pod, labels)]
            for direction in DIRECTIONS:
                stack = tuple(_cluster_ref(p, direction, i, subject=pod, nodes=nodes)
                              for p in selecting for i in range(len(p.rules(direction))))
                found[tier, direction] = stack
                self._acquire(stack)
        return found

    def _acquire(self, refs: Sequence[RuleRef | ClusterRuleRef]) -> None:
        for ref in refs:
            for peer_key in ref.peer_keys:
                count = self._uses.get(peer_key, 0)
                self._uses[peer_key] = count + 1
                if not count:
                    self._members[peer_key] = self._scan(peer_key)

    def _release(self, refs: Sequence[RuleRef | ClusterRuleRef] | None) -> None:
        for ref in refs or ():
            for peer_key in ref.peer_keys:
                self._uses[peer_key] -= 1
                if not self._uses[peer_key]:
                    del self._uses[peer_key]
                    del self._members[peer_key]

    def _scan(self, peer_key: AnyPeerKey) -> set[str]:
        """Every pod ``peer_key`` matches (only the candidate namespaces are looked at)."""
        if peer_key.namespace is not None:
            namespaces: Iterable[str] = (peer_key.namespace,)
        else:
            namespaces = list(self._in_namespace)
        found: set[str] = set()
        for ns in namespaces:
            labels = self._labels(ns)
            for key in self._in_namespace.get(ns, ()):
                if peer_key.selects(self.pods[key], labels):
                    found.add(key)
        return found

    def _concerns_node(self, pod: Pod | None) -> bool:
        """Whether ``pod`` may give or take an address of this node."""
        return pod is not None and (pod.spec.node_name == self.node or pod.host_network)

    def _own_addresses(self) -> bool:
        """Work out every local pod's node addresses again; whether any changed.

        ``NodeAddresses`` over the pods that name this node, and the host-network pods
        holding one of the addresses those give it, says what it says over the whole
        cluster: no other pod can add to this node's addresses."""
        on_node = [self.pods[k] for k in self._on_node]
        base: set[IPAddress] = set()
        for pod in on_node:
            base.update(parse_addresses(pod.host_ips))
            if pod.host_network:
                base.update(pod_addresses(pod))
        node = self.nodes.get(self.node)
        if node is not None:
            base.update(parse_addresses(node.ips))
        keys = {p.key for p in on_node}
        for addr in base:
            keys |= self._host_network.get(addr, set())
        pods = [self.pods[k] for k in sorted(keys)]
        found = NodeAddresses(pods, [pod_addresses(p) for p in pods],
                              [node] if node is not None else [])
        own = {p.key: found.own(i) for i, p in enumerate(pods) if p.key in self._local}
        changed = own != self._own
        self._own = own
        return changed
