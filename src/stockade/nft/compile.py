"""Compile resolved policies (``PodRules`` per pod and direction) into one nftables table.

Pure. Per-packet cost stays constant however many policies there are: a verdict map sends
a packet from an egress-isolated source (to an ingress-isolated destination) to the chain of
its *rule group* — pods whose resolved rules are identical share one — and that chain does a
single lookup in a concatenated interval set ``peer . l4proto . dport``. Nothing grows with
the number of policies except set sizes, and set lookups do not slow down with size.

Shape of the forward chain (bridged pod traffic; needs ``bridge-nf-call-iptables=1``):
``ct state established,related accept`` (replies), non-TCP/UDP/SCTP accept (NetworkPolicy
does not define them, and IPv6 neighbour discovery must pass), traffic between a pod and its
own node accepted, then egress of the source (a group's chain returns what it allows), then
``goto ingress_check``: the destination's ingress (its group's chain accepts or drops), and
``accept`` when the destination's ingress is open.

Traffic between a pod and its own node is always allowed. What the node itself sends to
its pods (kubelet probes, host-network pods) leaves through ``output`` and what a pod sends
to an address the node holds is delivered through ``input``: neither crosses ``forward``.
But the input may know addresses of the node that the node does not hold (an ExternalIP
that the cloud translates, or one ruleset loaded on every node); packets to those are
routed on and do cross ``forward``, so the ``own_node`` sets accept (pod, node address) and
(node address, pod) pairs explicitly, and the ruleset says what the engine says whatever
the node holds. A pod talking to itself stays on its loopback.

Cluster-wide policies put tiers around a side. A tier stage is one lookup in a verdict map
keyed like the sets, ``peer . l4proto . dport``, whose disjoint interval elements say what
the first matching rule does (``first_match_strips``), and it is shared: one chain and one
map per family (``egress_admin_K``, ``ingress_baseline_K``: ``shared_stage``) for every rule
group of a side whose tier has the same resolved rules, so that the tiers cost what their
distinct rule lists cost, not what the groups do. A group's chain (``group_chain``):
``jump`` to its Admin stage, whose map drops on Deny and on Accept ends the side (ingress:
``accept``; egress: ``goto ingress_check``, since a ``return`` from two chains deep would
only get back to the group's chain), while Pass (``return``) and no match come back to the
group's chain; then, for a side NetworkPolicy isolates, its own allow set, else drop; else
``goto`` its Baseline stage, the side's last (Deny drops; Accept, Pass and no match allow,
the elements of an Accept or a Pass staying where they shadow a later Deny); else allow.
``domainNames`` peers are not enforced: no resolver runs here, and the engine too judges a
connection to an address without them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING

from stockade.engine.resolved import PodRules, ResolvedBlock, ResolvedClusterRule, ResolvedRule
from stockade.errors import InputError
from stockade.model.netparse import IPAddress, effective_address, parse_ip
from stockade.model.types import Pod, PolicyType, Protocol, RuleAction
from stockade.nft.intervals import (
    Range,
    disjoint_strips,
    first_match_strips,
    merge,
    network_range,
    subtract,
)
from stockade.nft.ir import Chain, NftSet, Table
from stockade.nft.names import DEFAULT_TABLE
from stockade.wording import count

if TYPE_CHECKING:
    from stockade.engine import Engine

FAMILIES = (4, 6)
PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)
ALL_PORTS: Range = (0, 65535)
_FULL = {4: (0, 2**32 - 1), 6: (0, 2**128 - 1)}
_ADDR_TYPE = {4: "ipv4_addr", 6: "ipv6_addr"}
_IP = {4: "ip", 6: "ip6"}
_DIRECTIONS = {PolicyType.EGRESS: "egress", PolicyType.INGRESS: "ingress"}


@dataclass(frozen=True, slots=True)
class CompileResult:
    table: Table
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """A pod the dataplane can enforce: it has addresses on the pod network."""

    pod: Pod
    ips: tuple[IPAddress, ...]
    _by_family: dict[int, tuple[int, ...]] = field(default_factory=dict, compare=False,
                                                   repr=False)

    def ips_of(self, family: int) -> tuple[int, ...]:
        found = self._by_family.get(family)
        if found is None:
            found = tuple(int(ip) for ip in self.ips if ip.version == family)
            self._by_family[family] = found
        return found


@dataclass(slots=True)
class _Group:
    side: PodRules  # the first member's: every member resolves alike
    members: list[str] = field(default_factory=list)


def members_of(pods: Sequence[Pod], notes: list[str]) -> dict[str, Member]:
    """The pods a ruleset can enforce and match by address, by key (two pods with one
    address cannot both be: ``InputError``)."""
    members: dict[str, Member] = {}
    owner: dict[IPAddress, str] = {}
    for pod in pods:
        if pod.host_network:
            continue  # node traffic: never a subject or a peer of a policy
        ips: list[IPAddress] = []
        for text in pod.ips:
            ip = parse_ip(text)
            if ip is None:
                raise InputError(f'{pod.origin}: Pod {pod.key}: pod IP "{text}" is not an IP')
            ip = effective_address(ip)
            if ip in owner and owner[ip] != pod.key:
                raise InputError(f"{pod.origin}: Pod {pod.key}: pod IP {ip} is also the IP "
                                 f"of {owner[ip]}; one ruleset cannot enforce both")
            owner[ip] = pod.key
            ips.append(ip)
        if not ips:
            notes.append(f"{pod.key}: no pod IP, not enforced (and matches no pod peer)")
            continue
        members[pod.key] = Member(pod, tuple(ips))
    return members


def _block_ranges(block: ResolvedBlock, family: int) -> list[Range]:
    if block.network.version != family:
        return []
    holes = [network_range(e) for e in block.excepts if e.version == family]
    return subtract(network_range(block.network), holes)


AnyResolved = ResolvedRule | ResolvedClusterRule


def _peer_ranges(rule: AnyResolved, family: int, members: Mapping[str, Member]) -> list[Range]:
    if rule.peers.any_peer:
        return [_FULL[family]]
    ranges = [(ip, ip) for key in sorted(rule.peers.pods) if key in members
              for ip in members[key].ips_of(family)]
    for block in rule.peers.blocks:
        ranges += _block_ranges(block, family)
    return ranges


def _named_destinations(
    rule: AnyResolved, family: int, members: Mapping[str, Member]
) -> list[tuple[Member, int]]:
    """The (pod, address) pairs an egress named port resolves against: the pod peers."""
    if rule.peers.any_peer:
        return [(m, ip) for m in members.values() for ip in m.ips_of(family)]
    found = [(members[k], ip) for k in sorted(rule.peers.pods) if k in members
             for ip in members[k].ips_of(family)]
    blocks = [r for b in rule.peers.blocks for r in _block_ranges(b, family)]
    if blocks:
        found += [(m, ip) for m in members.values() for ip in m.ips_of(family)
                  if any(lo <= ip <= hi for lo, hi in blocks)]
    return found


def rectangles(
    rules: Iterable[ResolvedRule], family: int, members: Mapping[str, Member]
) -> dict[Protocol, list[tuple[Range, Range]]]:
    """What ``rules`` allow towards ``members`` and anyone else, as (address range, port
    range) rectangles per protocol (overlapping freely)."""
    rects: dict[Protocol, list[tuple[Range, Range]]] = {p: [] for p in PROTOCOLS}
    for rule in rules:
        peers = _peer_ranges(rule, family, members)
        if rule.ports is None:
            for protocol in PROTOCOLS:
                rects[protocol] += [(peer, ALL_PORTS) for peer in peers]
        else:
            for port in rule.ports:
                rects[port.protocol] += [(peer, (port.first, port.last)) for peer in peers]
        if not rule.named:
            continue
        for member, ip in _named_destinations(rule, family, members):
            for named in rule.named:
                # The first container port of that name and protocol, as the kubelet's
                # lookup (and the engine) resolve it.
                number = next((c.container_port for c in member.pod.container_ports()
                               if c.name == named.name and c.protocol == named.protocol.value),
                              None)
                if number is not None:
                    rects[named.protocol].append(((ip, ip), (number, number)))
    return rects


@functools.lru_cache(maxsize=1 << 16)
def address_text(value: int, family: int) -> str:
    """An address as nft reads it (cached: a pod's address is printed in many sets)."""
    return str(IPv4Address(value) if family == 4 else IPv6Address(value))


def _span(lo: int, hi: int, text: str, text_hi: str) -> str:
    return text if lo == hi else f"{text}-{text_hi}"


def _cluster_rectangles(rule: ResolvedClusterRule, family: int,
                        members: Mapping[str, Member]) -> list[tuple[Protocol, Range, Range]]:
    """What one cluster rule covers: (protocol, address range, port range)."""
    peers = _peer_ranges(rule, family, members)
    out: list[tuple[Protocol, Range, Range]] = []
    if rule.ports is None:
        out += [(protocol, peer, ALL_PORTS) for protocol in PROTOCOLS for peer in peers]
    else:
        out += [(port.protocol, peer, (port.first, port.last))
                for port in rule.ports for peer in peers]
    for member, ip in _named_destinations(rule, family, members) if rule.named else ():
        for name in rule.named:
            # A cluster rule's named port carries no protocol: the pod's port of that name.
            found = next((c for c in member.pod.container_ports() if c.name == name), None)
            if found is not None and found.protocol in Protocol.__members__:
                out.append((Protocol(found.protocol), (ip, ip),
                            (found.container_port, found.container_port)))
    return out


Ports = tuple[Range, ...]  # merged, sorted port ranges: what a strip of addresses allows
Strip = tuple[Range, Ports]
Pieces = tuple[tuple[Range, str], ...]  # a tier's (port range, verdict) at some addresses
TierStrip = tuple[Range, Pieces]


def group_strips(rules: Sequence[ResolvedRule], family: int,
                 members: Mapping[str, Member]) -> dict[Protocol, list[Strip]]:
    """A rule group's allowed traffic in one family: per protocol, maximal address ranges
    with the same allowed ports (what its set holds, before printing)."""
    return {protocol: [(addresses, tuple(ports)) for addresses, ports in disjoint_strips(rects)]
            for protocol, rects in rectangles(rules, family, members).items()}


def point_ports(rules: Sequence[ResolvedRule], family: int, members: Mapping[str, Member],
                address: int) -> dict[Protocol, Ports | None]:
    """What ``rules`` allow towards one address, per protocol (``None``: nothing); the
    rules' pod peers and ``members`` need hold only the pod at that address, if any."""
    found: dict[Protocol, Ports | None] = {}
    for protocol, rects in rectangles(rules, family, members).items():
        ports = merge(p for (lo, hi), p in rects if lo <= address <= hi)
        found[protocol] = tuple(ports) or None
    return found


def strip_elements(strip: Strip, family: int, protocol: Protocol) -> list[str]:
    """A strip as set elements: ``addresses . protocol . ports``, one per port range."""
    (alo, ahi), ports = strip
    addr = _span(alo, ahi, address_text(alo, family), address_text(ahi, family))
    name = protocol.value.lower()
    return [f"{addr} . {name} . {_span(plo, phi, str(plo), str(phi))}" for plo, phi in ports]


def _tier_rects(rules: Sequence[ResolvedClusterRule], family: int,
                members: Mapping[str, Member], verdicts: Mapping[RuleAction, str],
                address: int | None = None,
                ) -> dict[Protocol, list[tuple[int, str, tuple[Range, Range]]]]:
    """The tier's rules' rectangles by protocol, ranked; with ``address``, only where they
    cover it (cut down to it)."""
    by_protocol: dict[Protocol, list[tuple[int, str, tuple[Range, Range]]]] = {
        p: [] for p in PROTOCOLS}
    for rank, rule in enumerate(rules):
        for protocol, (alo, ahi), ports in _cluster_rectangles(rule, family, members):
            if address is None:
                by_protocol[protocol].append((rank, verdicts[rule.action], ((alo, ahi), ports)))
            elif alo <= address <= ahi:
                by_protocol[protocol].append((rank, verdicts[rule.action],
                                              ((address, address), ports)))
    return by_protocol


def tier_strips(rules: Sequence[ResolvedClusterRule], family: int,
                members: Mapping[str, Member],
                verdicts: Mapping[RuleAction, str]) -> dict[Protocol, list[TierStrip]]:
    """A tier's verdict map in one family: per protocol, maximal address ranges over which
    each port gets the same verdict from the first rule covering it."""
    return {protocol: [(addresses, tuple(pieces))
                       for addresses, pieces in first_match_strips(rects)]
            for protocol, rects in _tier_rects(rules, family, members, verdicts).items()}


def point_pieces(rules: Sequence[ResolvedClusterRule], family: int,
                 members: Mapping[str, Member], verdicts: Mapping[RuleAction, str],
                 address: int) -> dict[Protocol, Pieces | None]:
    """A tier's verdicts towards one address, per protocol (``None``: no rule covers it);
    as for ``point_ports``, only the pod at that address need be known."""
    found: dict[Protocol, Pieces | None] = {}
    for protocol, rects in _tier_rects(rules, family, members, verdicts, address).items():
        strips = first_match_strips(rects)
        found[protocol] = tuple(strips[0][1]) if strips else None
    return found


def tier_strip_elements(strip: TierStrip, family: int, protocol: Protocol) -> list[str]:
    """A tier strip as verdict-map elements: ``addresses . protocol . ports : verdict``."""
    (alo, ahi), pieces = strip
    addr = _span(alo, ahi, address_text(alo, family), address_text(ahi, family))
    name = protocol.value.lower()
    return [f"{addr} . {name} . {_span(plo, phi, str(plo), str(phi))} : {verdict}"
            for (plo, phi), verdict in pieces]


def _elements(rules: Sequence[ResolvedRule], family: int,
              members: Mapping[str, Member]) -> tuple[str, ...]:
    return tuple(element for protocol, strips in group_strips(rules, family, members).items()
                 for strip in strips for element in strip_elements(strip, family, protocol))


@dataclass(slots=True)
class _Shared:
    """A tier stage as ``_direction`` collects it: the groups that use it."""

    stage: Stage
    rules: tuple[ResolvedClusterRule, ...]
    groups: int = 0
    pods: list[str] = field(default_factory=list)


def _direction(
    direction: PolicyType,
    rules_of: Mapping[str, PodRules],
    members: Mapping[str, Member],
) -> tuple[list[NftSet], list[Chain], list[str]]:
    """Sets, chains and forward-chain rules that enforce one direction."""
    word = _DIRECTIONS[direction]
    groups: dict[tuple[object, ...], _Group] = {}
    for key in members:
        pod_rules = rules_of.get(key)
        if pod_rules is None or not pod_rules.restricted:
            continue
        group_key = (pod_rules.isolated, pod_rules.rules, pod_rules.admin, pod_rules.baseline)
        groups.setdefault(group_key, _Group(pod_rules)).members.append(key)
    sets: list[NftSet] = []
    chains: list[Chain] = []
    shared: dict[tuple[str, tuple[ResolvedClusterRule, ...]], _Shared] = {}
    numbers: dict[str, int] = {"admin": 0, "baseline": 0}

    def stage_for(kind: str, rules: tuple[ResolvedClusterRule, ...], group: _Group) -> str:
        found = shared.get((kind, rules))
        if found is None:
            found = _Shared(shared_stage(direction, kind, numbers[kind]), rules)
            numbers[kind] += 1
            shared[kind, rules] = found
        found.groups += 1
        found.pods += group.members
        return found.stage.chain

    vmap: dict[int, list[str]] = {4: [], 6: []}
    for number, group in enumerate(groups.values()):
        chain_name = f"{word}_{number}"
        side = group.side
        admin, baseline = stages_present(side)
        families: list[int] = []
        for family in FAMILIES:
            elements = _elements(side.rules, family, members) if side.isolated else ()
            if elements:
                sets.append(group_set(chain_name, family, elements))
                families.append(family)
        chains.append(group_chain(
            chain_name, direction, families, group_comment(group.members, (
                r.policy for r in side.rules) if side.isolated else None),
            isolated=side.isolated,
            admin=stage_for("admin", side.admin, group) if admin else "",
            baseline=stage_for("baseline", side.baseline, group) if baseline else ""))
        for family in FAMILIES:
            for key in group.members:
                vmap[family] += [vmap_element(ip, family, chain_name)
                                 for ip in members[key].ips_of(family)]
    for found in shared.values():
        stage = found.stage
        families = []
        for family in FAMILIES:
            elements = tuple(e for protocol, strips in tier_strips(
                found.rules, family, members, stage.verdicts).items()
                for strip in strips for e in tier_strip_elements(strip, family, protocol))
            if elements:
                sets.append(stage_set(stage, family, elements))
                families.append(family)
        chains.append(stage_chain(stage, families, stage_comment(
            stage, ((r.policy, r.domains) for r in found.rules), found.groups, found.pods)))
    forward: list[str] = []
    for family in FAMILIES:
        if vmap[family]:
            sets.append(vmap_set(direction, family, tuple(vmap[family])))
            forward.append(vmap_rule(direction, family))
    return sets, chains, forward


def _lookup(direction: PolicyType, family: int) -> str:
    """The key a set or map is looked up with: the far end, the protocol, the port."""
    peer = "daddr" if direction is PolicyType.EGRESS else "saddr"
    return f"{_IP[family]} {peer} . meta l4proto . th dport"


def group_set(chain: str, family: int, elements: tuple[str, ...]) -> NftSet:
    """A NetworkPolicy stage's allow set."""
    return NftSet(f"{chain}_v{family}", f"{_ADDR_TYPE[family]} . inet_proto . inet_service",
                  elements, interval=True)


def _allow(direction: PolicyType) -> str:
    """What a side's allowed packet does in a chain the forward chain jumped to: egress
    returns (the destination's ingress check comes next), ingress accepts."""
    return "return" if direction is PolicyType.EGRESS else "accept"


def group_chain(chain: str, direction: PolicyType, families: Iterable[int],
                comment: str = "", *, isolated: bool = True, admin: str = "",
                baseline: str = "") -> Chain:
    """A rule group's chain (the forward chain jumps to it): first its shared ``admin``
    stage if any (a jump: what the Admin tier does not decide comes back), then, if
    NetworkPolicy isolates it, one lookup in its allow set of each family it has, then
    drop; else its shared ``baseline`` stage if any (a goto: the last stage), else allow."""
    body = [f"jump {admin}"] if admin else []
    if isolated:
        on_match = _allow(direction)
        body += [f"{_lookup(direction, family)} @{chain}_v{family} {on_match}"
                 for family in FAMILIES if family in families]
        body.append("drop")
    elif baseline:
        body.append(f"goto {baseline}")
    else:
        body.append(_allow(direction))
    return Chain(chain, tuple(body), comment=comment)


def group_comment(members: Sequence[str], policies: Iterable[str] | None) -> str:
    """A group's chain's comment: its pods and its NetworkPolicies (``None``: NetworkPolicy
    does not isolate it)."""
    who = f"{count(len(members), 'pod')} e.g. {members[0]}"
    if policies is None:
        return f"{who}; not isolated by NetworkPolicy"
    names = sorted(set(policies))
    return f"{who}; policies: {', '.join(names) or 'none (deny all)'}"


def vmap_element(address: int, family: int, chain: str) -> str:
    return f"{address_text(address, family)} : jump {chain}"


def vmap_set(direction: PolicyType, family: int, elements: tuple[str, ...]) -> NftSet:
    return NftSet(f"{_DIRECTIONS[direction]}_v{family}", f"{_ADDR_TYPE[family]} : verdict",
                  elements, verdict=True)


def vmap_rule(direction: PolicyType, family: int) -> str:
    subject = "saddr" if direction is PolicyType.EGRESS else "daddr"
    return f"{_IP[family]} {subject} vmap @{_DIRECTIONS[direction]}_v{family}"


INGRESS_CHECK = "ingress_check"


@dataclass(frozen=True, slots=True)
class Stage:
    """A tier stage, shared by every rule group of a side whose tier has the same rules:
    one chain (``chain``) that looks the packet up in the stage's verdict map of each
    family (``verdicts``: what each action does there), then falls through."""

    kind: str  # "admin" or "baseline"
    direction: PolicyType
    chain: str
    verdicts: Mapping[RuleAction, str] = field(default_factory=dict)

    def set_name(self, family: int) -> str:
        return f"{self.chain}_v{family}"


def shared_stage(direction: PolicyType, kind: str, number: int) -> Stage:
    """The ``number``th shared stage of a tier (``kind``) in ``direction``.

    A group's chain jumps to its Admin stage: Deny drops; Pass and no match return to the
    group's chain, which goes on to its next stage; Accept ends the side, which for ingress
    is ``accept`` and for egress the destination's ingress check (a goto: a ``return`` two
    chains deep would only get back to the group's chain). A group's chain goes to its
    Baseline stage (the side's last): Deny drops, Accept and Pass allow as the group's chain
    would, and so does no match."""
    allow = _allow(direction)
    if kind == "admin":
        accept = f"goto {INGRESS_CHECK}" if direction is PolicyType.EGRESS else "accept"
        verdicts = {RuleAction.ACCEPT: accept, RuleAction.DENY: "drop",
                    RuleAction.PASS: "return"}
    else:
        verdicts = {RuleAction.ACCEPT: allow, RuleAction.DENY: "drop", RuleAction.PASS: allow}
    return Stage(kind, direction, f"{_DIRECTIONS[direction]}_{kind}_{number}", verdicts)


def stages_present(side: PodRules) -> tuple[bool, bool]:
    """Whether ``side`` has an Admin stage and a Baseline stage (the Baseline tier only
    ever sees a side NetworkPolicy leaves unisolated)."""
    return bool(side.admin), bool(side.baseline) and not side.isolated


def stage_set(stage: Stage, family: int, elements: tuple[str, ...]) -> NftSet:
    return NftSet(stage.set_name(family),
                  f"{_ADDR_TYPE[family]} . inet_proto . inet_service : verdict", elements,
                  interval=True, verdict=True)


def stage_chain(stage: Stage, families: Iterable[int], comment: str = "") -> Chain:
    body = [f"{_lookup(stage.direction, family)} vmap @{stage.set_name(family)}"
            for family in FAMILIES if family in families]
    if stage.kind == "baseline":
        body.append(_allow(stage.direction))
    return Chain(stage.chain, tuple(body), comment=comment)


def stage_comment(stage: Stage, rules: Iterable[tuple[str, Sequence[str]]], groups: int,
                  pods: Sequence[str]) -> str:
    """A shared stage's comment: its tier's policies (``rules``: each rule's policy and
    ``domainNames``) and who uses it."""
    found = list(rules)
    who = f"{count(groups, 'rule group')}, {count(len(pods), 'pod')}"
    if pods:
        who += f" e.g. {min(pods)}"
    comment = f"{stage.kind} tier: {', '.join(sorted({p for p, _ in found}))}; {who}"
    unenforced = sorted({d for _, domains in found for d in domains})
    if unenforced:
        comment += f"; domainNames not enforced: {', '.join(unenforced)}"
    return comment


def own_node_pairs(member: Member, node: Iterable[IPAddress], *, egress: bool,
                   ingress: bool) -> list[tuple[int, str]]:
    """The (family, source . destination) pairs between a pod and its node's addresses
    that its restricted sides must let pass: pod to node when egress is restricted, node to
    pod when ingress is (``node`` holds no pod's address)."""
    pairs: list[tuple[int, str]] = []
    for outwards, restricted in ((True, egress), (False, ingress)):
        if not restricted:
            continue
        for ip in member.ips:
            for addr in node:
                if addr.version == ip.version:
                    ends = (ip, addr) if outwards else (addr, ip)
                    pairs.append((ip.version, f"{ends[0]} . {ends[1]}"))
    return pairs


def own_node_set(family: int, elements: tuple[str, ...]) -> NftSet:
    addr = _ADDR_TYPE[family]
    return NftSet(f"own_node_v{family}", f"{addr} . {addr}", elements)


def own_node_rule(family: int) -> str:
    return f"{_IP[family]} saddr . {_IP[family]} daddr @own_node_v{family} accept"


def _own_node(
    own_node: Mapping[str, Iterable[IPAddress]],
    ingress: Mapping[str, PodRules],
    egress: Mapping[str, PodRules],
    members: Mapping[str, Member],
) -> tuple[list[NftSet], list[str]]:
    """Sets of (source, destination) address pairs between a pod and its own node, and the
    rules that accept them: pod to node for a pod restricted for egress, node to pod for one
    restricted for ingress (the other pods need nothing). A node address that is also a
    pod's is that pod's, as in the engine."""
    pod_ips = {ip for m in members.values() for ip in m.ips}
    pairs: dict[int, list[str]] = {4: [], 6: []}
    for key, member in members.items():
        out, into = egress.get(key), ingress.get(key)
        nodes = [n for n in own_node.get(key, ()) if n not in pod_ips]
        for family, pair in own_node_pairs(member, nodes,
                                           egress=out is not None and out.restricted,
                                           ingress=into is not None and into.restricted):
            pairs[family].append(pair)
    sets: list[NftSet] = []
    rules: list[str] = []
    for family in FAMILIES:
        if pairs[family]:
            sets.append(own_node_set(family, tuple(pairs[family])))
            rules.append(own_node_rule(family))
    return sets, rules


def forward_chain(own_node: Sequence[str], egress: Sequence[str],
                  held: Sequence[str] = ()) -> Chain:
    """The base chain at the forward hook: replies pass; traffic NetworkPolicy does not
    define passes; ``held`` rules (the agent's unknown addresses) drop; traffic between a
    pod and its own node passes; then the source's egress, then (a goto) the destination's
    ingress check."""
    return Chain(
        "forward",
        ("ct state established,related accept",
         "meta l4proto != { tcp, udp, sctp } accept",
         *held, *own_node, *egress, f"goto {INGRESS_CHECK}"),
        hook="forward",
        comment=("replies pass; " + ("traffic between a pod and its own node passes; "
                                      if own_node else "")
                 + "then the source's egress, then the destination's ingress"),
    )


def ingress_check_chain(ingress: Sequence[str]) -> Chain:
    """The destination's ingress, once its source's egress allowed a packet: the forward
    chain goes here, and so does an egress Admin stage's Accept (from two chains deep, where
    a ``return`` would not get back to the forward chain); accept when no group decides."""
    return Chain(INGRESS_CHECK, (*ingress, "accept"),
                 comment="the destination's ingress, after its source's egress allowed")


def compile_ruleset(
    pods: Sequence[Pod],
    ingress: Mapping[str, PodRules],
    egress: Mapping[str, PodRules],
    *,
    table: str = DEFAULT_TABLE,
    own_node: Mapping[str, Iterable[IPAddress]] | None = None,
) -> CompileResult:
    """The table enforcing ``ingress``/``egress`` (pod key -> rules) for ``pods``;
    ``own_node`` gives each pod's node addresses (pod key -> addresses)."""
    notes: list[str] = []
    members = members_of(pods, notes)
    n_sets, n_rules = _own_node(own_node or {}, ingress, egress, members)
    e_sets, e_chains, e_rules = _direction(PolicyType.EGRESS, egress, members)
    i_sets, i_chains, i_rules = _direction(PolicyType.INGRESS, ingress, members)
    forward = forward_chain(n_rules, e_rules)
    result = Table(table, "inet", (*n_sets, *e_sets, *i_sets),
                   (forward, ingress_check_chain(i_rules), *e_chains, *i_chains),
                   comments=tuple(notes))
    return CompileResult(result, tuple(notes))


def compile_engine(engine: Engine, *, table: str = DEFAULT_TABLE) -> CompileResult:
    """Compile every pod of ``engine`` with the rules the engine resolves for it."""
    ingress: dict[str, PodRules] = {}
    egress: dict[str, PodRules] = {}
    own_node: dict[str, Iterable[IPAddress]] = {}
    for index, pod in enumerate(engine.pods):
        if pod.host_network or not pod.ips:
            continue
        ingress[pod.key] = engine.pod_rules(pod.key, PolicyType.INGRESS)
        egress[pod.key] = engine.pod_rules(pod.key, PolicyType.EGRESS)
        own_node[pod.key] = sorted(engine.nodes.own(index), key=lambda a: (a.version, a))
    return compile_ruleset(engine.pods, ingress, egress, table=table, own_node=own_node)
