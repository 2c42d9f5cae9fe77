"""The pod's own node: every address the input knows for it, and who shares it.

NetworkPolicy always allows traffic between a pod and the node it runs on, whatever the
address used. A node's addresses are what the input says about it: the ``status.hostIPs``
of every pod on it (``spec.nodeName``), the addresses of its host-network pods (they share
the node's network), and its Node object's InternalIP and ExternalIP; also the ``hostIPs``
of finished pods (phase Succeeded or Failed), which are no endpoints but were on a node
that outlives them. A pod without a node name still knows its own ``hostIPs``; a
host-network pod without one is on whichever node has one of its addresses. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from stockade.model.netparse import IPAddress, effective_address, parse_ip
from stockade.model.types import Node, Pod

Addresses = frozenset[IPAddress]
_NONE: Addresses = frozenset()


def parse_addresses(texts: Sequence[str]) -> tuple[IPAddress, ...]:
    """The addresses that parse (IPv4-mapped ones as IPv4), in order; validation reports
    the others."""
    out: list[IPAddress] = []
    for text in texts:
        addr = parse_ip(text)
        if addr is not None and effective_address(addr) not in out:
            out.append(effective_address(addr))
    return tuple(out)


class NodeAddresses:
    """Per pod, the addresses of its own node; per pod, the pods it exchanges node traffic
    with (a host-network pod and a pod-network pod on one node). Worked out for every pod
    at once, on first use, so that building an engine does not pay for it."""

    def __init__(self, pods: Sequence[Pod], addresses: Sequence[Sequence[IPAddress]],
                 nodes: Sequence[Node],
                 reported: Sequence[tuple[str, Sequence[str]]] = ()) -> None:
        """``reported``: (node name, hostIPs) that pods no longer analysed (finished ones)
        report of their node."""
        self._pods = pods
        self._addresses = addresses
        self._nodes = nodes
        self._reported = reported
        self._own: list[Addresses] = []
        self._peers: dict[int, frozenset[int]] = {}
        self._host_peers: dict[int, list[int]] = {}
        self._built = False

    def _build(self) -> None:
        self._built = True
        pods, addresses, nodes = self._pods, self._addresses, self._nodes
        parsed: dict[tuple[str, ...], tuple[IPAddress, ...]] = {}  # few distinct: per node
        host = [parsed[p.host_ips] if p.host_ips in parsed
                else parsed.setdefault(p.host_ips, parse_addresses(p.host_ips)) for p in pods]
        named: dict[str, set[IPAddress]] = {}
        for i, pod in enumerate(pods):
            if pod.spec.node_name:
                found = named.setdefault(pod.spec.node_name, set())
                found.update(host[i])
                if pod.host_network:
                    found.update(addresses[i])
        for node in nodes:
            named.setdefault(node.name, set()).update(parse_addresses(node.ips))
        for name, ips in self._reported:
            named.setdefault(name, set()).update(parse_addresses(ips))
        host_network = [i for i, p in enumerate(pods) if p.host_network]
        # A host-network pod with one of a node's addresses has them all: add its others.
        by_address: dict[IPAddress, list[int]] = {}
        for i in host_network:
            for addr in addresses[i]:
                by_address.setdefault(addr, []).append(i)
        on_node: dict[str, list[int]] = {}
        for i in host_network:
            if pods[i].spec.node_name:
                on_node.setdefault(pods[i].spec.node_name, []).append(i)

        # A pod that names no node is on the node its hostIPs belong to, if one does.
        names_of: dict[IPAddress, set[str]] = {}
        for name, found in named.items():
            for addr in found:
                names_of.setdefault(addr, set()).add(name)

        # Pods of one node with the same hostIPs share one set (and one peer list).
        memo: dict[tuple[str, tuple[IPAddress, ...]], tuple[Addresses, frozenset[int]]] = {}
        for i, pod in enumerate(pods):
            if pod.host_network:
                self._own.append(_NONE)  # node traffic itself: no policy applies to it
                continue
            key = (pod.spec.node_name, host[i])
            if key not in memo:
                names = {pod.spec.node_name} if pod.spec.node_name else {
                    name for addr in host[i] for name in names_of.get(addr, ())}
                base = set(host[i]).union(*(named[n] for n in names if n in named))
                peers = {j for n in names for j in on_node.get(n, ())}
                for addr in list(base):
                    peers.update(by_address.get(addr, ()))
                for j in peers:
                    base.update(addresses[j])
                memo[key] = (frozenset(base), frozenset(peers))
            own, peers_of = memo[key]
            self._own.append(own)
            if peers_of:
                self._peers[i] = peers_of
                for j in peers_of:
                    self._host_peers.setdefault(j, []).append(i)

    def own(self, index: int) -> Addresses:
        """The addresses of pod ``index``'s node (empty for a host-network pod)."""
        if not self._built:
            self._build()
        return self._own[index]

    def peers(self, index: int) -> list[int]:
        """The pods pod ``index`` exchanges node traffic with, in input order."""
        if not self._built:
            self._build()
        if self._pods[index].host_network:
            return list(self._host_peers.get(index, ()))
        return sorted(self._peers.get(index, ()))

    def shared(self, subject: int, host: int) -> bool:
        """Is host-network pod ``host`` on the node of pod-network pod ``subject``?"""
        if not self._built:
            self._build()
        return host in self._peers.get(subject, _NO_PEERS)


_NO_PEERS: frozenset[int] = frozenset()
