"""Addresses outside the cluster's pods that policies name by ipBlock (or cluster-wide
policies by ``networks``), and the connections between them and the behaviour classes: the
matrix's columns (and rows) for the outside.

The ipBlocks (and networks) of all policies cut the address line into regions that every
block treats alike (``Regions``); each such region that holds an address no pod or node has
becomes one ``AddressRange``, judged through one representative address of it. A
connection from a class to an address needs only the class's egress side (an address has
no policies), one from an address only the class's ingress side. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stockade.engine.compile import Block, policy_blocks
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.matrix import ALL, AnyRule, PairSets, Spans
from stockade.engine.tiers import CompiledClusterRule, networks_of
from stockade.model.netparse import IPAddress, effective_address, parse_ip
from stockade.model.types import PolicyType

_SEARCH = 256  # addresses tried per region for one that no pod or node has
# Representatives tried first, so that an explanation reads "203.0.113.10 is outside
# ipBlock 10.0.0.0/8" rather than "0.0.0.1 ...": the documentation ranges (RFC 5737, 3849).
_PREFERRED = tuple(ipaddress.ip_address(a) for a in (
    "203.0.113.10", "198.51.100.10", "192.0.2.10", "2001:db8::10"))


@dataclass(frozen=True, slots=True)
class AddressRange:
    """Addresses every ipBlock treats alike, named after the narrowest block holding them
    (``10.0.0.0/24``, ``172.17.0.0/16 except 172.17.1.0/24``) or ``other IPv4 addresses``
    when no block does; ``address`` stands for all of them."""

    name: str
    address: IPAddress
    family: int
    blocks: tuple[str, ...]  # the ipBlocks (as the policies write them) holding the range


def _block_text(block: Block) -> str:
    text = str(block.network)
    if block.excepts:
        text += " except " + ", ".join(str(e) for e in block.excepts)
    return text


def _inside(block: Block, addr: IPAddress) -> bool:
    if addr.version != block.network.version or addr not in block.network:
        return False
    return not any(addr.version == ex.version and addr in ex for ex in block.excepts)


def _ranges_of(block: Block) -> list[tuple[int, int]]:
    """The block's addresses as sorted, disjoint ``[first, end)`` integer ranges."""
    out = [(int(block.network.network_address), int(block.network.broadcast_address) + 1)]
    for ex in block.excepts:
        if ex.version != block.network.version:
            continue
        lo, hi = int(ex.network_address), int(ex.broadcast_address) + 1
        out = [part for first, end in out
               for part in ((first, min(end, lo)), (max(first, hi), end)) if part[0] < part[1]]
    return out


def _merged(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for first, end in sorted(ranges):
        if out and first <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((first, end))
    return out


def _name(family: int, extent: list[tuple[int, int]], holding: Sequence[Block]) -> str:
    """The block whose addresses are exactly these, else the CIDRs when there are one or
    two, else the narrowest block holding them, else ``other IPvN addresses``."""
    for block in holding:
        if _merged(_ranges_of(block)) == extent:
            return _block_text(block)
    make = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
    cidrs = [str(net) for first, end in extent
             for net in ipaddress.summarize_address_range(make(first), make(end - 1))]
    if len(cidrs) <= 2:
        return ", ".join(cidrs)
    if holding:
        return _block_text(max(holding, key=lambda b: b.network.prefixlen))
    return f"other IPv{family} addresses"


def address_ranges(engine: Engine) -> list[AddressRange]:
    """One range per distinct set of ipBlocks an address can be in (no pod's or node's
    address chosen as representative), ordered by family and address, named by what it
    covers; ``other IPv4 addresses`` (and IPv6 when the cluster uses it) for the addresses
    no block names."""
    blocks = [Block(net, tuple(excepts)) for net, excepts in policy_blocks(engine.policies)]
    named = {b for b in blocks}
    for policy in engine.cluster_policies:
        for rule in policy.egress:
            for peer in rule.peers:
                for net in networks_of(peer):
                    if Block(net, ()) not in named:
                        named.add(Block(net, ()))
                        blocks.append(Block(net, ()))
    if not blocks and not engine.policies and not engine.cluster_policies:
        return []
    taken: set[IPAddress] = set()
    node_ips = (*(ip for node in engine.cluster.nodes for ip in node.ips),
                *(ip for _, ips in engine.cluster.finished_host_ips for ip in ips))
    for text in (*(ip for pod in engine.pods for ip in (*pod.ips, *pod.host_ips)), *node_ips):
        addr = parse_ip(text)
        if addr is not None:
            taken.add(effective_address(addr))
    families = {b.network.version for b in blocks} | {a.version for a in taken} | {4}
    ranges: list[AddressRange] = []
    names: dict[str, int] = {}
    for family in sorted(families):
        mine = [b for b in blocks if b.network.version == family]
        make = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
        top = 1 << (32 if family == 4 else 128)
        cuts = sorted({0} | {int(n.network_address) for b in mine for n in (b.network, *b.excepts)}
                      | {int(n.broadcast_address) + 1 for b in mine
                         for n in (b.network, *b.excepts)
                         if int(n.broadcast_address) + 1 < top})
        # Raw regions (between cuts) by the blocks holding them: one entry per range.
        extents: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        found: dict[tuple[int, ...], IPAddress] = {}
        for first, end in zip(cuts, [*cuts[1:], top], strict=True):
            holding = tuple(i for i, b in enumerate(mine) if _inside(b, make(first)))
            extents.setdefault(holding, []).append((first, end))
            addr = _free_address(make, first, end, taken)
            if addr is not None:
                found.setdefault(holding, addr)
        chosen: set[tuple[int, ...]] = set()
        for addr in _PREFERRED:
            if addr.version != family or addr in taken:
                continue
            holding = tuple(i for i, b in enumerate(mine) if _inside(b, addr))
            if holding in found and holding not in chosen:
                found[holding] = addr
                chosen.add(holding)
        for holding, addr in sorted(found.items(), key=lambda item: int(item[1])):
            name = (_name(family, _merged(extents[holding]), [mine[i] for i in holding])
                    if holding else f"other IPv{family} addresses")
            count = names.get(name, 0)
            names[name] = count + 1
            ranges.append(AddressRange(name if not count else f"{name} #{count + 1}", addr,
                                       family, tuple(_block_text(mine[i]) for i in holding)))
    return ranges


def _free_address(make: Callable[[int], IPAddress], first: int, end: int,
                  taken: set[IPAddress]) -> IPAddress | None:
    start = first + 1 if end - first > 2 else first  # a network's first address reads oddly
    for value in range(start, min(end, start + _SEARCH)):
        addr = make(value)
        if addr not in taken:
            return addr
    return None


def _peers_match(rule: AnyRule, addr: IPAddress) -> bool:
    """An address that is no pod's matches only ipBlock peers (and a rule without peers);
    a cluster rule's only networks and nodes peers (and a rule failing closed)."""
    if isinstance(rule, CompiledClusterRule):
        return rule.all_peers or any(p.selected is None and p.contains(addr)
                                     for p in rule.peers)
    if rule.any_peer:
        return True
    return any(cp.block is not None and _inside(cp.block, addr) for cp in rule.peers)


def _numeric_spans(keys: PairSets, rule: AnyRule) -> Spans:
    """A rule's ports towards an address: named ports resolve on pods only."""
    return keys.rule_spans(rule, None)


def address_connections(keys: PairSets, addr: IPAddress,
                        direction: PolicyType) -> list[Spans]:
    """Per class: what it may open to ``addr`` (``EGRESS``), or what it accepts from
    ``addr`` (``INGRESS``), the cluster-wide tiers in order; ``ALL`` where nothing applies
    to the class in that direction or it is host-networked (node traffic)."""
    engine = keys.engine
    types, all_layers = ((keys.e_type, keys.e_layers) if direction is EGRESS
                         else (keys.i_type, keys.i_layers))
    out: list[Spans] = []
    for cls in engine.classes:
        layers = all_layers[int(types[cls.index])]
        if cls.host_network or layers.trivial:
            out.append(ALL)
            continue
        rules = layers.rules
        mask = np.zeros(max(1, (len(rules) + 63) // 64), dtype=np.uint64)
        spans: list[Spans] = []
        for j, rule in enumerate(rules):
            if _peers_match(rule, addr):
                mask[j // 64] |= np.uint64(1 << (j % 64))
                spans.append(_numeric_spans(keys, rule) if direction is EGRESS
                             else keys.rule_spans(rule, cls.index))
            else:
                spans.append(())
        out.append(PairSets.side_set(layers, mask, spans))
    return out


__all__ = ["EGRESS", "INGRESS", "AddressRange", "address_connections", "address_ranges"]
