"""Evaluation of one connection: the verdict of each side with the rules that decided it.

Follows the reference algorithm of the semantics spec (§10): a pod reaches itself; the
source's egress side and the destination's ingress side must both allow; a side is isolated
by the policies that select the pod and list that direction, and then some rule of theirs
must match peer and port. Cluster-wide policies wrap that in tiers (adminnetworkpolicy.md
§3, §4.6): the Admin tier's first matching rule decides, or passes; then NetworkPolicy
decides for the pods it isolates; then the Baseline tier; then allow. Every answer records
the deciding rules, and a denied side can say why each rule missed. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stockade.engine.classes import address_of_family
from stockade.engine.compile import CompiledPeer, CompiledPort, CompiledRule
from stockade.engine.explain import (
    ClusterRuleMatch,
    DirectionVerdict,
    RuleMatch,
    RuleMiss,
    Verdict,
)
from stockade.engine.tiers import (
    ClusterPeer,
    ClusterPort,
    CompiledClusterRule,
    Stack,
    domain_matches,
)
from stockade.engine.traffic import Endpoint, Traffic, connection_family
from stockade.model.netparse import IPAddress
from stockade.model.selectors import describe_selector, selector_matches
from stockade.model.types import PolicyType, RuleAction, Tier

if TYPE_CHECKING:
    from stockade.engine.engine import Engine

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


def evaluate(engine: Engine, traffic: Traffic) -> Verdict:
    """The verdict on one connection (``Engine.evaluate``)."""
    src, dst = traffic.source, traffic.destination
    if src.pod is not None and src.pod is dst.pod and not (
            traffic.via_service and not engine.tiers.empty):
        ok = DirectionVerdict(EGRESS, True, note="a pod always reaches itself")
        return Verdict(traffic, True, ok, DirectionVerdict(INGRESS, True, note=ok.note),
                       ("a pod always reaches itself",))
    family = _family(engine, src, dst)
    egress = _side(engine, EGRESS, src, dst, family=family, traffic=traffic)
    ingress = _side(engine, INGRESS, dst, src, family=family, traffic=traffic)
    return Verdict(traffic, egress.allowed and ingress.allowed, egress, ingress)


def _family(engine: Engine, src: Endpoint, dst: Endpoint) -> int:
    """The IP family of a connection: the address given, else by the pods' addresses
    (``connection_family``)."""
    for ep in (src, dst):
        if ep.ip is not None:
            return ep.ip.version
    return connection_family(_families(engine, src), _families(engine, dst))


def _families(engine: Engine, ep: Endpoint) -> list[int]:
    if ep.pod is None:
        return []
    return [a.version for a in engine._addresses[engine._by_key[ep.pod.key]]]


def _address(engine: Engine, ep: Endpoint, family: int) -> IPAddress | None:
    if ep.ip is not None:
        return ep.ip
    if ep.pod is None:
        return None
    return address_of_family(engine._addresses[engine._by_key[ep.pod.key]], family)


def _side(engine: Engine, direction: PolicyType, subject: Endpoint, peer: Endpoint, *,
          family: int, traffic: Traffic) -> DirectionVerdict:
    if subject.pod is None:
        return DirectionVerdict(direction, True, note="not a pod: no policy applies")
    if subject.pod.host_network:
        return DirectionVerdict(direction, True,
                                note="host-network pod: node traffic, no policy applies")
    if engine.own_node(subject.pod, peer):
        note = ("from the pod's own node: always allowed" if direction is INGRESS
                else "to the pod's own node: always allowed")
        return DirectionVerdict(direction, True, note=note)
    cls = engine.class_of(subject.pod)
    view = _peer_view(engine, peer, family)
    admin = engine.tiers.stack(Tier.ADMIN, direction, cls.index)
    baseline = engine.tiers.stack(Tier.BASELINE, direction, cls.index)
    tiered = bool(admin or baseline)
    remarks = _domain_remarks(engine, direction, (*admin, *baseline), peer)
    passed: list[ClusterRuleMatch] = []
    if admin:
        decided = _tier(engine, admin, peer, view, traffic)
        if decided is not None and decided.passes:
            passed.append(decided)
        elif decided is not None:
            return _cluster_decided(engine, direction, decided, admin, peer, family=family,
                                         traffic=traffic, remarks=remarks)
    isolating = engine.isolating[direction][cls.index]
    if isolating:
        policies = tuple(engine.policies[i].key for i in isolating)
        if subject.pod is peer.pod:  # via a Service, back to itself: NetworkPolicy
            return DirectionVerdict(  # never stops a pod's own traffic
                direction, True, True, policies, note="a pod always reaches itself",
                tier="NetworkPolicy", passed=tuple(passed), tiered=tiered,
                remarks=remarks)
        matches = tuple(
            found
            for i in isolating
            for rule in engine.compiled[i].rules[direction]
            if (found := _rule_match(engine, rule, view, traffic)) is not None
        )
        if matches:
            return DirectionVerdict(direction, True, True, policies, matches,
                                    tier="NetworkPolicy" if tiered else "",
                                    passed=tuple(passed), tiered=tiered, remarks=remarks)

        def explain() -> tuple[RuleMiss, ...]:
            return _misses(engine, direction, isolating, peer, family=family, traffic=traffic)

        return DirectionVerdict(direction, False, True, policies, explain=explain,
                                tier="NetworkPolicy" if tiered else "",
                                passed=tuple(passed), tiered=tiered, remarks=remarks)
    if baseline:
        decided = _tier(engine, baseline, peer, view, traffic)
        if decided is not None and decided.passes:
            passed.append(decided)
        elif decided is not None:
            return _cluster_decided(engine, direction, decided, baseline, peer,
                                         family=family, traffic=traffic,
                                         remarks=remarks, passed=passed)
    return DirectionVerdict(direction, True, note=f"not isolated for {direction.lower()}",
                            passed=tuple(passed), tiered=tiered, remarks=remarks)

# Cluster-wide policies: the first rule of a tier that matches.


def _tier(engine: Engine, stack: Stack, peer: Endpoint, view: _PeerView,
          traffic: Traffic) -> ClusterRuleMatch | None:
    for rule in stack:
        found = _cluster_match(engine, rule, peer, view, traffic)
        if found is not None:
            return found
    return None


def _cluster_match(engine: Engine, rule: CompiledClusterRule, peer: Endpoint, view: _PeerView,
                   traffic: Traffic) -> ClusterRuleMatch | None:
    if rule.all_peers:  # failing closed: a Deny of everything
        return _cluster_rule_match(engine, rule, None, None)
    port = _cluster_port_index(engine, rule, traffic)
    if port is False:
        return None
    hit = next((j for j, cp in enumerate(rule.peers)
                if _cluster_peer_hit(cp, peer, view)), None)
    if hit is None:
        return None
    return _cluster_rule_match(engine, rule, hit, port)


def _cluster_rule_match(engine: Engine, rule: CompiledClusterRule, peer: int | None,
                        port: int | bool | None) -> ClusterRuleMatch:
    policy = engine.cluster_policies[rule.policy]
    return ClusterRuleMatch(
        policy=policy.key, tier=policy.tier.value,
        priority=policy.priority if policy.has_priority else None,
        direction=rule.direction, rule=rule.index, name=rule.rule.name,
        action=rule.rule.action_text or rule.rule.action.value, peer=peer,
        port=port if isinstance(port, int) and not isinstance(port, bool) else None,
        ports_field="ports" if policy.kind != "ClusterNetworkPolicy" else "protocols",
        fail_closed=rule.all_peers,
    )


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


def _cluster_port_index(engine: Engine, rule: CompiledClusterRule,
                        traffic: Traffic) -> int | bool | None:
    if rule.any_port:
        return None
    for j, cp in enumerate(rule.ports):
        if _cluster_port_ok(cp, traffic):
            return j
    return False


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


def _domain_remarks(engine: Engine, direction: PolicyType, rules: Stack,
                    peer: Endpoint) -> tuple[str, ...]:
    """What a query to an address cannot know: whether a name resolves to it."""
    if direction is not EGRESS or peer.host:
        return ()
    out = [f"{engine.cluster_policies[r.policy].key} {rule_word(r)}: domainNames "
           f"{', '.join(d for cp in r.peers for d in cp.peer.domain_names)} not applied: "
           "which addresses a name resolves to is not in the input (ask with --to-host "
           "NAME)"
           for r in rules if any(cp.peer.domain_names for cp in r.peers)]
    return tuple(out)


def _cluster_decided(engine: Engine, direction: PolicyType, decided: ClusterRuleMatch,
                     stack: Stack, peer: Endpoint, *, family: int, traffic: Traffic,
                     remarks: tuple[str, ...],
                     passed: Sequence[ClusterRuleMatch] = ()) -> DirectionVerdict:
    allowed = decided.accepts
    explain = None
    if not allowed:
        def explain() -> tuple[RuleMiss, ...]:
            return _cluster_misses(engine, stack, decided, peer, family=family,
                                   traffic=traffic)
    return DirectionVerdict(direction, allowed, tier=decided.tier, decided_by=decided,
                            passed=tuple(passed), tiered=True, remarks=remarks,
                            explain=explain)


def _cluster_misses(engine: Engine, stack: Stack, decided: ClusterRuleMatch, peer: Endpoint,
                    *, family: int, traffic: Traffic) -> tuple[RuleMiss, ...]:
    """The Accept rules before the Deny that decided, and why each missed."""
    misses: list[RuleMiss] = []
    for rule in stack:
        policy = engine.cluster_policies[rule.policy]
        if (policy.key, rule.direction, rule.index) == (decided.policy, decided.direction,
                                                        decided.rule):
            break
        if rule.action is not RuleAction.ACCEPT:
            continue
        peer_why = [f"{'from' if rule.direction is INGRESS else 'to'}[{j}]: "
                    f"{_cluster_peer_reason(engine, cp, peer, family)}"
                    for j, cp in enumerate(rule.peers)]
        view = _peer_view(engine, peer, family)
        peer_ok = any(_cluster_peer_hit(cp, peer, view) for cp in rule.peers)
        port_ok = _cluster_port_index(engine, rule, traffic) is not False
        port_why = [] if port_ok else [
            f"{'ports' if policy.kind != 'ClusterNetworkPolicy' else 'protocols'}[{j}]: "
            f"{_cluster_port_reason(cp, traffic)}" for j, cp in enumerate(rule.ports)]
        misses.append(RuleMiss(policy.key, rule.direction, rule.index,
                               int(peer_ok or port_ok),
                               tuple(([] if peer_ok else peer_why) + port_why)))
    misses.sort(key=lambda m: -m.closeness)
    return tuple(misses)


def _cluster_peer_reason(engine: Engine, cp: ClusterPeer, peer: Endpoint, family: int) -> str:
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
        ns = engine.namespaces[peer.pod.namespace]
        selector = p.namespaces if p.namespaces is not None else (
            p.pods.namespace_selector if p.pods is not None else None)
        if selector is not None and not selector_matches(selector, ns.labels):
            return f"namespace {ns.name} does not match {describe_selector(selector)}"
        if p.pods is not None:
            return (f"{peer.name} does not match podSelector "
                    f"{describe_selector(p.pods.pod_selector)}")
        return f"{peer.name} does not match"
    addr = _address(engine, peer, family)
    if addr is None:
        return f"{peer.name} has no address to match networks or nodes"
    if p.nodes is not None:
        return (f"{addr} is not an address of a node matching "
                f"{describe_selector(p.nodes)}")
    return f"{addr} is outside networks {', '.join(p.networks)}"


def _cluster_port_reason(cp: ClusterPort, traffic: Traffic) -> str:
    if cp.never:
        return "matches no TCP, UDP or SCTP traffic"
    if cp.name:
        return f"named port {cp.name!r} is not {traffic.protocol} {traffic.port} here"
    span = str(cp.first) if cp.first == cp.last else f"{cp.first}-{cp.last}"
    return f"{cp.protocol} {span}, not {traffic.protocol} {traffic.port}"

# The verdict: which rules match, without a word of why the others did not.


def _peer_view(engine: Engine, peer: Endpoint, family: int) -> _PeerView:
    """What the rules' peers are matched against: the peer's class (selectors), and its
    address in the connection's family (ipBlocks)."""
    if peer.pod is None:
        return _PeerView(None, False, _address(engine, peer, family), family)
    index = engine._by_key[peer.pod.key]
    own = address_of_family(engine._addresses[index], family)
    addr = peer.ip if peer.ip is not None else own
    return _PeerView(engine.pod_class[index], addr == own, addr, family)


def _rule_match(engine: Engine, rule: CompiledRule, view: _PeerView,
                traffic: Traffic) -> RuleMatch | None:
    port = _port_index(engine, rule, traffic)
    if port is False:
        return None
    hit: int | None = None
    if not rule.any_peer:
        found = _first_peer(engine, rule, view)
        if found is None:
            return None
        hit = found
    return RuleMatch(engine.policies[rule.policy].key, rule.direction, rule.index, hit,
                     port)


def _first_peer(engine: Engine, rule: CompiledRule, view: _PeerView) -> int | None:
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


def _port_index(engine: Engine, rule: CompiledRule, traffic: Traffic) -> int | bool | None:
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


def _misses(engine: Engine, direction: PolicyType, isolating: Sequence[int], peer: Endpoint,
            *, family: int, traffic: Traffic) -> tuple[RuleMiss, ...]:
    dst = traffic.destination
    misses: list[RuleMiss] = []
    for i in isolating:
        for rule in engine.compiled[i].rules[direction]:
            peer_hit, peer_why = _match_peers(engine, rule, peer, family)
            port_hit, port_why = _match_ports(engine, rule, dst, traffic)
            closeness = int(peer_hit is not False or port_hit is not False)
            misses.append(RuleMiss(engine.policies[i].key, direction, rule.index,
                                   closeness, (*peer_why, *port_why)))
    misses.sort(key=lambda m: -m.closeness)
    return tuple(misses)


def _match_peers(engine: Engine, rule: CompiledRule, peer: Endpoint,
                 family: int) -> tuple[int | bool | None, list[str]]:
    """Index of the first matching peer (``None``: no list, all match) or ``False``,
    with the reasons each peer missed."""
    if rule.any_peer:
        return None, []
    why: list[str] = []
    for j, cp in enumerate(rule.peers):
        ok, reason = _peer_matches(engine, rule, cp, peer, family)
        if ok:
            return j, []
        why.append(f"{'from' if rule.direction is INGRESS else 'to'}[{j}]: {reason}")
    return False, why


def _peer_matches(engine: Engine, rule: CompiledRule, cp: CompiledPeer, peer: Endpoint,
                  family: int) -> tuple[bool, str]:
    if cp.block is not None:
        addr = _address(engine, peer, family)
        cidr = str(cp.block.network)
        if addr is None:
            what = ("has no IP address" if not family or not _families(engine, peer)
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
    policy = engine.policies[rule.policy]
    sel = cp.peer
    if sel.namespace_selector is None and peer.pod.namespace != policy.namespace:
        return False, (f"{peer.name} is in namespace {peer.pod.namespace}; a podSelector "
                       f"alone selects pods of {policy.namespace} only")
    if sel.namespace_selector is not None:
        ns = engine.namespaces[peer.pod.namespace]
        if not selector_matches(sel.namespace_selector, ns.labels):
            return False, (f"namespace {ns.name} does not match namespaceSelector "
                           f"{describe_selector(sel.namespace_selector)}")
    if sel.pod_selector is not None and not selector_matches(sel.pod_selector,
                                                             peer.pod.labels):
        return False, (f"{peer.name} does not match podSelector "
                       f"{describe_selector(sel.pod_selector)}")
    return True, ""


def _match_ports(engine: Engine, rule: CompiledRule, dst: Endpoint,
                 traffic: Traffic) -> tuple[int | bool | None, list[str]]:
    if rule.any_port:
        return None, []
    why: list[str] = []
    for j, cp in enumerate(rule.ports):
        ok, reason = _port_matches(engine, cp, dst, traffic)
        if ok:
            return j, []
        why.append(f"ports[{j}]: {reason}")
    return False, why


def _port_matches(engine: Engine, cp: CompiledPort, dst: Endpoint,
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
