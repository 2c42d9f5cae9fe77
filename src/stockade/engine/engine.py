"""The engine over one cluster: built once, then asked about connections, pods and matrices.

Built here: the behaviour classes, the compiled NetworkPolicies and which isolate each class,
and (with cluster-wide policies) the tiers. Questions are answered elsewhere, each module
imported only by the questions that need it: one connection's verdict with its reasons in
``engine.evaluate`` (the spec's §10 algorithm; adminnetworkpolicy.md §3, §4.6 for tiers), a
pod's resolved rules for a dataplane in ``engine.resolve``, the matrix in ``engine.matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from stockade.engine.classes import BehaviourClass, Regions, build_classes, pod_addresses
from stockade.engine.compile import CompiledPolicy, Compiler, policy_blocks
from stockade.engine.nodes import NodeAddresses, parse_addresses
from stockade.errors import InputError
from stockade.model.netparse import IPAddress, effective_address, parse_ip
from stockade.model.same import same_but_origin
from stockade.model.selectors import add_selector_values
from stockade.model.types import (
    Cluster,
    Namespace,
    NetworkPolicy,
    ObjectMeta,
    Pod,
    PolicyType,
    Protocol,
)

if TYPE_CHECKING:
    from stockade.engine.explain import Verdict
    from stockade.engine.resolved import PodRules
    from stockade.engine.tiers import NodeInfo, Tiers
    from stockade.engine.traffic import Endpoint, Traffic

INGRESS, EGRESS = PolicyType.INGRESS, PolicyType.EGRESS


def _selector_label_values(cluster: Cluster) -> dict[str, set[str]]:
    """The pod label keys any pod selector reads, with the values selectors compare them
    with (NetworkPolicies, then cluster-wide policies): what behaviour classes keep."""
    values: dict[str, set[str]] = {}
    for policy in cluster.policies:
        add_selector_values(policy.pod_selector, values)
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.pod_selector is not None:
                    add_selector_values(peer.pod_selector, values)
    if cluster.cluster_policies:
        from stockade.engine.tiers import cluster_label_values  # for cluster-wide policies only
        cluster_label_values(cluster.cluster_policies, values)
    return values


def _named_ports(cluster: Cluster) -> set[tuple[Protocol, str]]:
    named: set[tuple[Protocol, str]] = set()
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for port in rule.ports:
                if isinstance(port.port, str) and port.protocol in Protocol.__members__:
                    named.add((Protocol(port.protocol), port.port))
    return named


def _same_list(a: Sequence[msgspec.Struct], b: Sequence[msgspec.Struct]) -> bool:
    """The same objects in the same order, wherever each was read from."""
    return len(a) == len(b) and all(map(same_but_origin, a, b))


def _compiled_by_key(engine: Engine) -> dict[str, CompiledPolicy]:
    return {cp.policy.key: cp for cp in engine.compiled}


def _taken(found: CompiledPolicy | None, index: int,
           policy: NetworkPolicy) -> CompiledPolicy | None:
    """``found`` (another engine's compiled policy of the same key, over the same classes)
    as this engine's ``index``-th policy ``policy``, if the two policies are the same."""
    if found is None or not same_but_origin(found.policy, policy):
        return None
    rules = found.rules
    if any(rule.policy != index for direction in rules.values() for rule in direction):
        rules = {d: tuple(msgspec.structs.replace(rule, policy=index) for rule in direction)
                 for d, direction in rules.items()}
    return msgspec.structs.replace(found, policy=policy, rules=rules)


class Engine:
    """Compiled policies of one cluster. Immutable after construction.

    ``like``: the engine of a cluster that may differ from this one (the other side of a
    diff). When the two have the same pods and namespaces, and their policies select by the
    same labels and name the same ports and address blocks, their behaviour classes are the
    same: this engine takes ``like``'s classes and compiler, and the compiled form of each
    policy that is the same on both sides, and compiles only the others (through the shared
    compiler, whose caches then hold them too: memoisation only, ``like`` answers as
    before)."""

    def __init__(self, cluster: Cluster, *, extra_pods: Sequence[Pod] = (),
                 like: Engine | None = None) -> None:
        self.cluster = cluster
        self.pods: tuple[Pod, ...] = (*cluster.pods, *extra_pods)
        self.policies = cluster.policies
        self._by_key = {pod.key: i for i, pod in enumerate(self.pods)}
        if like is not None and not _same_list(like.pods, self.pods):
            like = None
        self._addresses: list[tuple[IPAddress, ...]] = (
            like._addresses if like is not None else [pod_addresses(pod) for pod in self.pods])
        self._by_ip: dict[IPAddress, int] = (like._by_ip if like is not None
                                             else self._address_index())
        # The same for every engine with these pods (the same, in the same order): made
        # here or taken from ``like``.
        self.pods_token: object = like.pods_token if like is not None else object()
        same_nodes = like is not None and (
            _same_list(like.cluster.nodes, cluster.nodes)
            and like.cluster.finished_host_ips == cluster.finished_host_ips)
        self.nodes: NodeAddresses = (
            like.nodes if like is not None and same_nodes
            else NodeAddresses(self.pods, self._addresses, cluster.nodes,
                               cluster.finished_host_ips))
        self.namespaces: dict[str, Namespace] = {ns.name: ns for ns in cluster.namespaces}
        for pod in self.pods:
            if pod.namespace not in self.namespaces:
                self.namespaces[pod.namespace] = Namespace(ObjectMeta(pod.namespace),
                                                           declared=False)

        self.cluster_policies = cluster.cluster_policies
        self._node_info: list[NodeInfo] = [(node.metadata.label_map, parse_addresses(node.ips))
                                           for node in cluster.nodes]
        named = _named_ports(cluster)
        blocks = policy_blocks(self.policies)
        if self.cluster_policies:
            # Tiers' module: imported for cluster-wide policies only.
            from stockade.engine.tiers import cluster_blocks, cluster_named_ports
            named |= cluster_named_ports(self.cluster_policies)
            blocks += cluster_blocks(self.cluster_policies,
                                     [a for _, ips in self._node_info for a in ips])
        # What the behaviour classes and the compiler are made of, besides the pods (the
        # regions are those of the set of blocks, in whatever order they come).
        self._class_inputs = (_selector_label_values(cluster), named, frozenset(blocks))
        if like is not None and (like._class_inputs != self._class_inputs or not _same_list(
                list(like.namespaces.values()), list(self.namespaces.values()))):
            like = None
        self.regions: Regions
        self.classes: list[BehaviourClass]
        self.pod_class: list[int]
        self.compiler: Compiler
        if like is not None:
            self.regions, self.classes = like.regions, like.classes
            self.pod_class, self.compiler = like.pod_class, like.compiler
        else:
            self.regions = Regions(blocks)
            self.classes, self.pod_class = build_classes(
                self.pods, self._class_inputs[0], named, self.regions, self._addresses,
            )
            self.compiler = Compiler(self.classes, list(self.namespaces.values()),
                                     self.regions)
        self._tiers = self._build_tiers() if self.cluster_policies else None
        compiled = _compiled_by_key(like) if like is not None else {}
        self.compiled: tuple[CompiledPolicy, ...] = tuple(
            _taken(compiled.get(p.key), i, p) or self.compiler.policy(i, p)
            for i, p in enumerate(self.policies)
        )
        # Per class and direction: the policies that isolate it, and their rules.
        self.isolating: dict[PolicyType, list[list[int]]] = {
            d: [[] for _ in self.classes] for d in (INGRESS, EGRESS)
        }
        for i, cp in enumerate(self.compiled):
            subjects = cp.subjects.members().tolist() if cp.rules else []
            for direction in cp.rules:
                isolating = self.isolating[direction]
                for c in subjects:
                    isolating[c].append(i)

    def _address_index(self) -> dict[IPAddress, int]:
        """Each pod address, and the pod it names."""
        by_ip: dict[IPAddress, int] = {}
        for i, addrs in enumerate(self._addresses):
            on_host = self.pods[i].host_network
            for addr in addrs:
                # A hostNetwork pod shares its node's address: the first pod-network pod
                # holding it is what the address names, wherever the two are listed.
                held = by_ip.get(addr)
                if held is None or (not on_host and self.pods[held].host_network):
                    by_ip[addr] = i
        return by_ip

    @property
    def tiers(self) -> Tiers:
        """The cluster-wide policies compiled into tiers. Without any, built on first use
        only: a NetworkPolicy matrix never reads them, and need not import their module."""
        if self._tiers is None:
            self._tiers = self._build_tiers()
        return self._tiers

    def _build_tiers(self) -> Tiers:
        from stockade.engine.tiers import TierCompiler, build_tiers  # (see ``tiers``)
        return build_tiers(TierCompiler(self.compiler, self._node_info), self.cluster_policies,
                           len(self.classes))

    # --- endpoints -------------------------------------------------------------------------

    def pod(self, key: str) -> Pod:
        index = self._by_key.get(key)
        if index is None:
            raise InputError(f"no pod {key!r} in the input")
        return self.pods[index]

    def class_of(self, pod: Pod) -> BehaviourClass:
        return self.classes[self.pod_class[self._by_key[pod.key]]]

    def endpoint(self, text: str) -> Endpoint:
        """``ns/name`` (or ``ns/Kind/name``) of a pod, or an IP address (a pod's or not).
        An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) is its IPv4 address, as Go's
        ``net.ParseIP`` reads it and as pod IPs and ipBlocks are read."""
        from stockade.engine.traffic import Endpoint  # endpoints: for queries only
        addr = parse_ip(text)
        if addr is not None:
            addr = effective_address(addr)
            index = self._by_ip.get(addr)
            return Endpoint(self.pods[index] if index is not None else None, addr)
        if "/" not in text:
            raise InputError(f"{text!r} is neither ns/pod nor an IP address")
        return Endpoint(self.pod(text))

    def node_traffic(self, src: int, dst: int) -> bool:
        """True when one pod is host-networked on the other's node: node traffic, which
        NetworkPolicy always allows (kubelet probes; a pod reaching its node)."""
        a, b = self.pods[src], self.pods[dst]
        if a.host_network == b.host_network:
            return False
        return self.nodes.shared(dst, src) if a.host_network else self.nodes.shared(src, dst)

    def node_peers(self, index: int) -> list[int]:
        """Pods with which pod ``index`` exchanges node traffic (see ``node_traffic``)."""
        return self.nodes.peers(index)

    def own_node(self, subject: Pod, peer: Endpoint) -> bool:
        """Is ``peer`` the node ``subject`` runs on: a host-network pod there, or any of the
        node's addresses (``NodeAddresses``)? A pod-network pod never is."""
        index = self._by_key[subject.key]
        if peer.pod is not None:
            return peer.pod.host_network and self.nodes.shared(index, self._by_key[peer.pod.key])
        return peer.ip is not None and peer.ip in self.nodes.own(index)

    # --- evaluation ------------------------------------------------------------------------

    def allowed(self, src: str, dst: str, protocol: Protocol, port: int) -> bool:
        from stockade.engine.traffic import Traffic  # connections: for queries only
        traffic = Traffic(self.endpoint(src), self.endpoint(dst), protocol, port)
        return self.evaluate(traffic).allowed

    def evaluate(self, traffic: Traffic) -> Verdict:
        """The verdict on one connection, each side with the rules that decided it."""
        from stockade.engine.evaluate import evaluate  # verdicts' modules: for queries only
        return evaluate(self, traffic)

    # --- resolved rules for a dataplane -----------------------------------------------------

    def pod_rules(self, pod_key: str, direction: PolicyType) -> PodRules:
        """The rules that apply to a pod in one direction, resolved for a dataplane."""
        from stockade.engine.resolve import pod_rules  # resolved rules: for compile only
        return pod_rules(self, pod_key, direction)
