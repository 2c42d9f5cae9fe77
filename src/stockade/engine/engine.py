"""The engine over one cluster: built once, then asked about connections, pods and matrices.

Evaluation of a connection follows the reference algorithm of the semantics spec (§10): a
pod reaches itself; the source's egress side and the destination's ingress side must both
allow; a side is isolated by the policies that select the pod and list that direction, and
then some rule of theirs must match peer and port. Cluster-wide policies wrap that in tiers
(adminnetworkpolicy.md §3, §4.6): the Admin tier's first matching rule decides, or passes;
then NetworkPolicy decides for the pods it isolates; then the Baseline tier; then allow.
Every answer records the deciding rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from stockade.engine.classes import (
    BehaviourClass,
    Regions,
    address_of_family,
    build_classes,
    pod_addresses,
)
from stockade.engine.compile import (
    CompiledPeer,
    CompiledPolicy,
    CompiledPort,
    CompiledRule,
    Compiler,
    policy_blocks,
)
from stockade.engine.explain import (
    ClusterRuleMatch,
    DirectionVerdict,
    RuleMatch,
    RuleMiss,
    Verdict,
)
from stockade.engine.nodes import NodeAddresses, parse_addresses
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
    ClusterPeer,
    ClusterPort,
    CompiledClusterRule,
    Stack,
    TierCompiler,
    build_tiers,
    cluster_blocks,
    cluster_label_values,
    cluster_named_ports,
    domain_matches,
)
from stockade.engine.traffic import Endpoint, Traffic, connection_family
from stockade.errors import InputError
from stockade.model.netparse import IPAddress, effective_address, effective_network, parse_ip
from stockade.model.selectors import add_selector_values, describe_selector, selector_matches
from stockade.model.types import (
    Cluster,
    Namespace,
    ObjectMeta,
    Pod,
    PolicyType,
    Protocol,
    RuleAction,
    Tier,
)

INGRESS, EGRESS = PolicyType.INGRESS, PolicyType.EGRESS


@dataclass(frozen=True, slots=True)
class _PeerView:
    """The far end of a connection as rules' peers see it: its class (``None``: no pod),
    whether ``addr`` is the class's own address in ``family``, and that address."""

    cls: int | None
    own_address: bool
    addr: IPAddress | None
    family: int
def rule_word(rule: CompiledClusterRule) -> str:
    return f"{'ingress' if rule.direction is INGRESS else 'egress'}[{rule.index}]"


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


class Engine:
    """Compiled policies of one cluster. Immutable after construction."""

    def __init__(self, cluster: Cluster, *, extra_pods: Sequence[Pod] = ()) -> None:
        self.cluster = cluster
        self.pods: tuple[Pod, ...] = (*cluster.pods, *extra_pods)
        self.policies = cluster.policies
        self._by_key = {pod.key: i for i, pod in enumerate(self.pods)}
        self._addresses = [pod_addresses(pod) for pod in self.pods]
        self._by_ip: dict[IPAddress, int] = {}
        for i, addrs in enumerate(self._addresses):
            for addr in addrs:
                # A hostNetwork pod shares its node's address; prefer the pod-network owner.
                if addr not in self._by_ip or not self.pods[i].host_network:
                    self._by_ip.setdefault(addr, i)
        self.nodes = NodeAddresses(self.pods, self._addresses, cluster.nodes)
        self.namespaces: dict[str, Namespace] = {ns.name: ns for ns in cluster.namespaces}
        for pod in self.pods:
            if pod.namespace not in self.namespaces:
                self.namespaces[pod.namespace] = Namespace(ObjectMeta(pod.namespace),
                                                           declared=False)

        self.cluster_policies = cluster.cluster_policies
        node_info = [(node.metadata.label_map, parse_addresses(node.ips))
                     for node in cluster.nodes]
        named = _named_ports(cluster) | cluster_named_ports(self.cluster_policies)
        blocks = policy_blocks(self.policies) + cluster_blocks(
            self.cluster_policies, [a for _, ips in node_info for a in ips])
        self.regions = Regions(blocks)
        self.classes, self.pod_class = build_classes(
            self.pods, _selector_label_values(cluster), named, self.regions, self._addresses,
        )
        self.compiler = Compiler(self.classes, list(self.namespaces.values()), self.regions)
        self.tiers = build_tiers(TierCompiler(self.compiler, node_info), self.cluster_policies,
                                 len(self.classes))
        self.compiled: tuple[CompiledPolicy, ...] = tuple(
            self.compiler.policy(i, p) for i, p in enumerate(self.policies)
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
        traffic = Traffic(self.endpoint(src), self.endpoint(dst), protocol, port)
        return self.evaluate(traffic).allowed

    def evaluate(self, traffic: Traffic) -> Verdict:
        src, dst = traffic.source, traffic.destination
        if src.pod is not None and src.pod is dst.pod and not (
                traffic.via_service and not self.tiers.empty):
            ok = DirectionVerdict(EGRESS, True, note="a pod always reaches itself")
            return Verdict(traffic, True, ok, DirectionVerdict(INGRESS, True, note=ok.note),
                           ("a pod always reaches itself",))
        family = self._family(src, dst)
        egress = self._side(EGRESS, src, dst, family, traffic)
        ingress = self._side(INGRESS, dst, src, family, traffic)
        return Verdict(traffic, egress.allowed and ingress.allowed, egress, ingress)

    def _family(self, src: Endpoint, dst: Endpoint) -> int:
        """The IP family of a connection: the address given, else by the pods' addresses
        (``connection_family``)."""
        for ep in (src, dst):
            if ep.ip is not None:
                return ep.ip.version
        return connection_family(self._families(src), self._families(dst))

    def _families(self, ep: Endpoint) -> list[int]:
        if ep.pod is None:
            return []
        return [a.version for a in self._addresses[self._by_key[ep.pod.key]]]

    def _address(self, ep: Endpoint, family: int) -> IPAddress | None:
        if ep.ip is not None:
            return ep.ip
        if ep.pod is None:
            return None
        return address_of_family(self._addresses[self._by_key[ep.pod.key]], family)

    def _side(self, direction: PolicyType, subject: Endpoint, peer: Endpoint, family: int,
              traffic: Traffic) -> DirectionVerdict:
        if subject.pod is None:
            return DirectionVerdict(direction, True, note="not a pod: no policy applies")
        if subject.pod.host_network:
            return DirectionVerdict(direction, True,
                                    note="host-network pod: node traffic, no policy applies")
        if self.own_node(subject.pod, peer):
            note = ("from the pod's own node: always allowed" if direction is INGRESS
                    else "to the pod's own node: always allowed")
            return DirectionVerdict(direction, True, note=note)
        cls = self.class_of(subject.pod)
        view = self._peer_view(peer, family)
        admin = self.tiers.stack(Tier.ADMIN, direction, cls.index)
        baseline = self.tiers.stack(Tier.BASELINE, direction, cls.index)
        tiered = bool(admin or baseline)
        remarks = self._domain_remarks(direction, (*admin, *baseline), peer)
        passed: list[ClusterRuleMatch] = []
        if admin:
            decided = self._tier(admin, peer, view, traffic)
            if decided is not None and decided.passes:
                passed.append(decided)
            elif decided is not None:
                return self._cluster_decided(direction, decided, admin, peer, family=family,
                                             traffic=traffic, remarks=remarks)
        isolating = self.isolating[direction][cls.index]
        if isolating:
            policies = tuple(self.policies[i].key for i in isolating)
            if subject.pod is peer.pod:  # via a Service, back to itself: NetworkPolicy
                return DirectionVerdict(  # never stops a pod's own traffic
                    direction, True, True, policies, note="a pod always reaches itself",
                    tier="NetworkPolicy", passed=tuple(passed), tiered=tiered,
                    remarks=remarks)
            matches = tuple(
                found
                for i in isolating
                for rule in self.compiled[i].rules[direction]
                if (found := self._rule_match(rule, view, traffic)) is not None
            )
            if matches:
                return DirectionVerdict(direction, True, True, policies, matches,
                                        tier="NetworkPolicy" if tiered else "",
                                        passed=tuple(passed), tiered=tiered, remarks=remarks)

            def explain() -> tuple[RuleMiss, ...]:
                return self._misses(direction, isolating, peer, family, traffic)

            return DirectionVerdict(direction, False, True, policies, explain=explain,
                                    tier="NetworkPolicy" if tiered else "",
                                    passed=tuple(passed), tiered=tiered, remarks=remarks)
        if baseline:
            decided = self._tier(baseline, peer, view, traffic)
            if decided is not None and decided.passes:
                passed.append(decided)
            elif decided is not None:
                return self._cluster_decided(direction, decided, baseline, peer,
                                             family=family, traffic=traffic,
                                             remarks=remarks, passed=passed)
        return DirectionVerdict(direction, True, note=f"not isolated for {direction.lower()}",
                                passed=tuple(passed), tiered=tiered, remarks=remarks)

    # Cluster-wide policies: the first rule of a tier that matches.

    def _tier(self, stack: Stack, peer: Endpoint, view: _PeerView,
              traffic: Traffic) -> ClusterRuleMatch | None:
        for rule in stack:
            found = self._cluster_match(rule, peer, view, traffic)
            if found is not None:
                return found
        return None

    def _cluster_match(self, rule: CompiledClusterRule, peer: Endpoint, view: _PeerView,
                       traffic: Traffic) -> ClusterRuleMatch | None:
        if rule.all_peers:  # failing closed: a Deny of everything
            return self._cluster_rule_match(rule, None, None)
        port = self._cluster_port_index(rule, traffic)
        if port is False:
            return None
        hit = next((j for j, cp in enumerate(rule.peers)
                    if self._cluster_peer_hit(cp, peer, view)), None)
        if hit is None:
            return None
        return self._cluster_rule_match(rule, hit, port)

    def _cluster_rule_match(self, rule: CompiledClusterRule, peer: int | None,
                            port: int | bool | None) -> ClusterRuleMatch:
        policy = self.cluster_policies[rule.policy]
        return ClusterRuleMatch(
            policy=policy.key, tier=policy.tier.value,
            priority=policy.priority if policy.has_priority else None,
            direction=rule.direction, rule=rule.index, name=rule.rule.name,
            action=rule.rule.action_text or rule.rule.action.value, peer=peer,
            port=port if isinstance(port, int) and not isinstance(port, bool) else None,
            ports_field="ports" if policy.kind != "ClusterNetworkPolicy" else "protocols",
            fail_closed=rule.all_peers,
        )

    @staticmethod
    def _cluster_peer_hit(cp: ClusterPeer, peer: Endpoint, view: _PeerView) -> bool:
        """Selector peers by the far end's class; networks and nodes by its address (by
        its class, when that is the class's own address); domainNames by name only."""
        if cp.peer.domain_names:
            return bool(peer.host) and any(domain_matches(d, peer.host)
                                           for d in cp.peer.domain_names)
        if peer.host and peer.ip is None:
            return False  # a name, no address: only domainNames peers can match it
        if cp.selected is not None:
            return view.cls is not None and view.cls in cp.selected
        if view.addr is None:
            return False
        if view.own_address and view.cls is not None:
            members = cp.block_members.get(view.family)
            return members is not None and view.cls in members
        return cp.contains(view.addr)

    def _cluster_port_index(self, rule: CompiledClusterRule,
                            traffic: Traffic) -> int | bool | None:
        if rule.any_port:
            return None
        for j, cp in enumerate(rule.ports):
            if self._cluster_port_ok(cp, traffic):
                return j
        return False

    @staticmethod
    def _cluster_port_ok(cp: ClusterPort, traffic: Traffic) -> bool:
        if cp.never:
            return False
        if cp.name:
            dst = traffic.destination.pod
            if dst is None or dst.host_network:
                return False
            found = next((p for p in dst.container_ports() if p.name == cp.name), None)
            return (found is not None and found.protocol == traffic.protocol.value
                    and found.container_port == traffic.port)
        return cp.protocol == traffic.protocol and cp.first <= traffic.port <= cp.last

    def _domain_remarks(self, direction: PolicyType, rules: Stack,
                        peer: Endpoint) -> tuple[str, ...]:
        """What a query to an address cannot know: whether a name resolves to it."""
        if direction is not EGRESS or peer.host:
            return ()
        out = [f"{self.cluster_policies[r.policy].key} {rule_word(r)}: domainNames "
               f"{', '.join(d for cp in r.peers for d in cp.peer.domain_names)} not applied: "
               "which addresses a name resolves to is not in the input (ask with --to-host "
               "NAME)"
               for r in rules if any(cp.peer.domain_names for cp in r.peers)]
        return tuple(out)

    def _cluster_decided(self, direction: PolicyType, decided: ClusterRuleMatch,
                         stack: Stack, peer: Endpoint, *, family: int, traffic: Traffic,
                         remarks: tuple[str, ...],
                         passed: Sequence[ClusterRuleMatch] = ()) -> DirectionVerdict:
        allowed = decided.accepts
        explain = None
        if not allowed:
            def explain() -> tuple[RuleMiss, ...]:
                return self._cluster_misses(stack, decided, peer, family, traffic)
        return DirectionVerdict(direction, allowed, tier=decided.tier, decided_by=decided,
                                passed=tuple(passed), tiered=True, remarks=remarks,
                                explain=explain)

    def _cluster_misses(self, stack: Stack, decided: ClusterRuleMatch, peer: Endpoint,
                        family: int, traffic: Traffic) -> tuple[RuleMiss, ...]:
        """The Accept rules before the Deny that decided, and why each missed."""
        misses: list[RuleMiss] = []
        for rule in stack:
            policy = self.cluster_policies[rule.policy]
            if (policy.key, rule.direction, rule.index) == (decided.policy, decided.direction,
                                                            decided.rule):
                break
            if rule.action is not RuleAction.ACCEPT:
                continue
            peer_why = [f"{'from' if rule.direction is INGRESS else 'to'}[{j}]: "
                        f"{self._cluster_peer_reason(cp, peer, family)}"
                        for j, cp in enumerate(rule.peers)]
            view = self._peer_view(peer, family)
            peer_ok = any(self._cluster_peer_hit(cp, peer, view) for cp in rule.peers)
            port_ok = self._cluster_port_index(rule, traffic) is not False
            port_why = [] if port_ok else [
                f"{'ports' if policy.kind != 'ClusterNetworkPolicy' else 'protocols'}[{j}]: "
                f"{self._cluster_port_reason(cp, traffic)}" for j, cp in enumerate(rule.ports)]
            misses.append(RuleMiss(policy.key, rule.direction, rule.index,
                                   int(peer_ok or port_ok),
                                   tuple(([] if peer_ok else peer_why) + port_why)))
        misses.sort(key=lambda m: -m.closeness)
        return tuple(misses)

    def _cluster_peer_reason(self, cp: ClusterPeer, peer: Endpoint, family: int) -> str:
        p = cp.peer
        if p.domain_names:
            return (f"{peer.name} is not reached by one of the names "
                    f"{', '.join(p.domain_names)}")
        if p.fails_closed:
            return "sets no field stockade knows: matches nothing (fails closed)"
        if cp.selected is not None:
            if peer.pod is None:
                return f"{peer.name} is no pod's address; namespaces and pods peers match pods"
            if peer.pod.host_network:
                return f"{peer.name} is host-network: namespaces and pods peers never match it"
            ns = self.namespaces[peer.pod.namespace]
            selector = p.namespaces if p.namespaces is not None else (
                p.pods.namespace_selector if p.pods is not None else None)
            if selector is not None and not selector_matches(selector, ns.labels):
                return f"namespace {ns.name} does not match {describe_selector(selector)}"
            if p.pods is not None:
                return (f"{peer.name} does not match podSelector "
                        f"{describe_selector(p.pods.pod_selector)}")
            return f"{peer.name} does not match"
        addr = self._address(peer, family)
        if addr is None:
            return f"{peer.name} has no address to match networks or nodes"
        if p.nodes is not None:
            return (f"{addr} is not an address of a node matching "
                    f"{describe_selector(p.nodes)}")
        return f"{addr} is outside networks {', '.join(p.networks)}"

    @staticmethod
    def _cluster_port_reason(cp: ClusterPort, traffic: Traffic) -> str:
        if cp.never:
            return "matches no TCP, UDP or SCTP traffic"
        if cp.name:
            return f"named port {cp.name!r} is not {traffic.protocol} {traffic.port} here"
        span = str(cp.first) if cp.first == cp.last else f"{cp.first}-{cp.last}"
        return f"{cp.protocol} {span}, not {traffic.protocol} {traffic.port}"

    # The verdict: which rules match, without a word of why the others did not.

    def _peer_view(self, peer: Endpoint, family: int) -> _PeerView:
        """What the rules' peers are matched against: the peer's class (selectors), and its
        address in the connection's family (ipBlocks)."""
        if peer.pod is None:
            return _PeerView(None, False, self._address(peer, family), family)
        index = self._by_key[peer.pod.key]
        own = address_of_family(self._addresses[index], family)
        addr = peer.ip if peer.ip is not None else own
        return _PeerView(self.pod_class[index], addr == own, addr, family)

    def _rule_match(self, rule: CompiledRule, view: _PeerView,
                    traffic: Traffic) -> RuleMatch | None:
        port = self._port_index(rule, traffic)
        if port is False:
            return None
        hit: int | None = None
        if not rule.any_peer:
            found = self._first_peer(rule, view)
            if found is None:
                return None
            hit = found
        return RuleMatch(self.policies[rule.policy].key, rule.direction, rule.index, hit,
                         port)

    def _first_peer(self, rule: CompiledRule, view: _PeerView) -> int | None:
        """The index of the first of the rule's peers that matches, or ``None``: selector
        peers by the peer's class, ipBlock peers by its address (by its class, when that
        is the class's own address, to reject at once)."""
        cls = view.cls
        by_selector: int | None = None
        if cls is not None and cls in rule.selected:
            by_selector = next(j for j, cp in enumerate(rule.peers)
                               if cp.selected is not None and cls in cp.selected)
        by_block: int | None = None
        if view.addr is not None:
            members = rule.block_members.get(view.family)
            if not (view.own_address and cls is not None
                    and (members is None or cls not in members)):
                by_block = rule.blocks.first_containing(view.addr)
        if by_selector is None or by_block is None:
            return by_selector if by_block is None else by_block
        return min(by_selector, by_block)

    def _port_index(self, rule: CompiledRule, traffic: Traffic) -> int | bool | None:
        """Index of the first matching ``ports`` entry (``None``: no list, all ports), or
        ``False``."""
        if rule.any_port:
            return None
        dst = traffic.destination.pod
        for j, cp in enumerate(rule.ports):
            if cp.protocol != traffic.protocol:
                continue
            if not cp.name:
                if cp.first <= traffic.port <= cp.last:
                    return j
            elif dst is not None and not dst.host_network:
                # The first container port of that name and protocol decides.
                number = next((p.container_port for p in dst.container_ports()
                               if p.name == cp.name and p.protocol == cp.protocol), None)
                if number == traffic.port:
                    return j
        return False

    # The explanation: every rule of the isolating policies, and why each one missed.

    def _misses(self, direction: PolicyType, isolating: Sequence[int], peer: Endpoint,
                family: int, traffic: Traffic) -> tuple[RuleMiss, ...]:
        dst = traffic.destination
        misses: list[RuleMiss] = []
        for i in isolating:
            for rule in self.compiled[i].rules[direction]:
                peer_hit, peer_why = self._match_peers(rule, peer, family)
                port_hit, port_why = self._match_ports(rule, dst, traffic)
                closeness = int(peer_hit is not False or port_hit is not False)
                misses.append(RuleMiss(self.policies[i].key, direction, rule.index,
                                       closeness, (*peer_why, *port_why)))
        misses.sort(key=lambda m: -m.closeness)
        return tuple(misses)

    def _match_peers(self, rule: CompiledRule, peer: Endpoint,
                     family: int) -> tuple[int | bool | None, list[str]]:
        """Index of the first matching peer (``None``: no list, all match) or ``False``,
        with the reasons each peer missed."""
        if rule.any_peer:
            return None, []
        why: list[str] = []
        for j, cp in enumerate(rule.peers):
            ok, reason = self._peer_matches(rule, cp, peer, family)
            if ok:
                return j, []
            why.append(f"{'from' if rule.direction is INGRESS else 'to'}[{j}]: {reason}")
        return False, why

    def _peer_matches(self, rule: CompiledRule, cp: CompiledPeer, peer: Endpoint,
                      family: int) -> tuple[bool, str]:
        if cp.block is not None:
            addr = self._address(peer, family)
            cidr = str(cp.block.network)
            if addr is None:
                what = ("has no IP address" if not family or not self._families(peer)
                        else f"has no IPv{family} address")
                return False, f"{peer.name} {what}, and an ipBlock matches addresses only"
            if addr.version != cp.block.network.version or addr not in cp.block.network:
                return False, f"{addr} is outside ipBlock {cidr}"
            for ex in cp.block.excepts:
                if addr.version == ex.version and addr in ex:
                    return False, f"{addr} is inside except {ex} of ipBlock {cidr}"
            return True, ""
        if peer.pod is None:
            return False, f"{peer.name} is no pod's address; only ipBlock peers match it"
        if peer.pod.host_network:
            return False, (f"{peer.name} is host-network (node traffic); only ipBlock peers "
                           "match it")
        policy = self.policies[rule.policy]
        sel = cp.peer
        if sel.namespace_selector is None and peer.pod.namespace != policy.namespace:
            return False, (f"{peer.name} is in namespace {peer.pod.namespace}; a podSelector "
                           f"alone selects pods of {policy.namespace} only")
        if sel.namespace_selector is not None:
            ns = self.namespaces[peer.pod.namespace]
            if not selector_matches(sel.namespace_selector, ns.labels):
                return False, (f"namespace {ns.name} does not match namespaceSelector "
                               f"{describe_selector(sel.namespace_selector)}")
        if sel.pod_selector is not None and not selector_matches(sel.pod_selector,
                                                                 peer.pod.labels):
            return False, (f"{peer.name} does not match podSelector "
                           f"{describe_selector(sel.pod_selector)}")
        return True, ""

    def _match_ports(self, rule: CompiledRule, dst: Endpoint,
                     traffic: Traffic) -> tuple[int | bool | None, list[str]]:
        if rule.any_port:
            return None, []
        why: list[str] = []
        for j, cp in enumerate(rule.ports):
            ok, reason = self._port_matches(cp, dst, traffic)
            if ok:
                return j, []
            why.append(f"ports[{j}]: {reason}")
        return False, why

    def _port_matches(self, cp: CompiledPort, dst: Endpoint,
                      traffic: Traffic) -> tuple[bool, str]:
        if not cp.name:
            span = "all ports" if (cp.first, cp.last) == (1, 65535) else (
                str(cp.first) if cp.first == cp.last else f"{cp.first}-{cp.last}")
            if cp.protocol != traffic.protocol:
                return False, f"allows {cp.protocol} {span}, not {traffic.protocol}"
            if not cp.first <= traffic.port <= cp.last:
                return False, f"allows {cp.protocol} {span}, not port {traffic.port}"
            return True, ""
        if cp.protocol != traffic.protocol:
            return False, f"named port {cp.name!r} is {cp.protocol}, not {traffic.protocol}"
        if dst.pod is None or dst.pod.host_network:
            return False, (f"named port {cp.name!r} cannot match {dst.name}: only pods "
                           "declare named ports")
        declared = [p for p in dst.pod.container_ports() if p.name == cp.name]
        if not declared:
            return False, f"named port {cp.name!r} is not declared by {dst.name}"
        same = [p for p in declared if p.protocol == cp.protocol]
        if not same:
            return False, (f"{dst.name} declares {cp.name!r} as {declared[0].protocol}, "
                           f"not {cp.protocol}")
        number = same[0].container_port
        if number != traffic.port:
            return False, f"named port {cp.name!r} is {cp.protocol} {number} on {dst.name}"
        return True, ""

    # --- resolved rules for a dataplane -----------------------------------------------------

    def pod_rules(self, pod_key: str, direction: PolicyType) -> PodRules:
        pod = self.pod(pod_key)
        if pod.host_network:
            return PodRules(pod_key, False)
        cls = self.class_of(pod)
        isolating = self.isolating[direction][cls.index]
        admin = tuple(self._resolve_cluster(r, pod)
                      for r in self.tiers.stack(Tier.ADMIN, direction, cls.index))
        baseline = tuple(self._resolve_cluster(r, pod)
                         for r in self.tiers.stack(Tier.BASELINE, direction, cls.index))
        rules = tuple(
            self._resolve(rule, pod)
            for i in isolating
            for rule in self.compiled[i].rules[direction]
        )
        return PodRules(pod_key, bool(isolating), rules, admin, baseline)

    def _resolve_cluster(self, rule: CompiledClusterRule, subject: Pod) -> ResolvedClusterRule:
        policy = self.cluster_policies[rule.policy]
        if rule.all_peers:
            return ResolvedClusterRule(policy.key, rule.index, rule.action, ResolvedPeers(True),
                                       None)
        pods = frozenset(self.pods[m].key for c in rule.selected.members().tolist()
                         for m in self.classes[c].members)
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

    def _resolve(self, rule: CompiledRule, subject: Pod) -> ResolvedRule:
        policy = self.policies[rule.policy]
        if rule.any_peer:
            peers = ResolvedPeers(True)
        else:
            pods = frozenset(
                self.pods[m].key
                for c in rule.selected.members().tolist()
                for m in self.classes[c].members
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


