"""Behaviour classes: pods that no selector, ipBlock or named port of any policy can tell apart.

Two replicas of a Deployment carry the same labels and ports, so every policy treats them
alike; the engine computes on classes and expands to pods only for output. A class key is
the namespace, the pod's labels as selectors see them, the named ports some rule mentions,
whether the pod is host-networked, and which region of the ipBlock boundaries each of its
addresses falls in. Node traffic (a host-network pod and a pod on the same node) is a
per-pod exception applied on top of the class answers.

Labels as selectors see them: only the keys some pod selector reads (of a NetworkPolicy,
its peers, or a cluster-wide policy's subject and peers), and of a key's value only whether
it is one that some selector compares the key with (``matchLabels``, ``In``, ``NotIn``) and
which one; every other value is one placeholder (``OTHER``). ``In``/``NotIn`` over a value
set and ``matchLabels`` cannot tell two values apart that none of them names, and
``Exists``/``DoesNotExist`` read only presence, so a selector answers the same for every
member of a class. Nothing else reads pod labels through classes: no supported peer
compares a pod label's value between two pods (AdminNetworkPolicy's removed ``sameLabels``
compared namespaces' and is not read), namespace selectors read namespaces (a class has
one namespace) and node selectors read nodes (a class's addresses stand for them). So one
policy saying ``statefulset.kubernetes.io/pod-name Exists`` no longer makes every
StatefulSet pod a class of its own (classes ≈ pods made the matrix quadratic in pods).
The values named are
gathered over the whole cluster, not per namespace: scoping a policy's own-namespace
selectors to its namespace saved another 8% of classes on a ``benchmarks/shapes.py``
cluster, but merged, on ``generate.py``'s, apps whose names other namespaces' selectors
name, changing the groups ``matrix`` shows there.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from stockade.model.netparse import IPAddress, IPNetwork, effective_address, parse_ip
from stockade.model.types import Pod, Protocol

FAMILIES = (4, 6)
_PROTOCOL_OF = {p.value: p for p in Protocol}  # ``Protocol(text)`` without its exception
OTHER = "*"  # a label value no selector names (never a valid label value)


class BehaviourClass(msgspec.Struct, frozen=True):
    index: int
    namespace: str
    # Restricted to the keys selectors read; a value the members do not all carry (none
    # that any selector names) is that key's placeholder (``OTHER`` unless a selector
    # names it). Selectors answer on these as on every member's own labels.
    labels: tuple[tuple[str, str], ...]
    host_network: bool
    named_ports: tuple[tuple[Protocol, str, int], ...]  # (protocol, name) -> number
    regions: tuple[int, int]  # a raw ipBlock region per family (v4, v6); -1: no address
    primary_family: int  # 4, 6, or 0 when the pod has no address
    members: tuple[int, ...]  # pod indices

    @property
    def secondary_family(self) -> int:
        """The other family when the pod is dual-stack, else 0."""
        other = 6 if self.primary_family == 4 else 4
        return other if self.primary_family and self.regions[(4, 6).index(other)] >= 0 else 0

    def named_port(self, protocol: Protocol, name: str) -> int | None:
        for proto, port_name, number in self.named_ports:
            if proto == protocol and port_name == name:
                return number
        return None


def pod_addresses(pod: Pod) -> tuple[IPAddress, ...]:
    """The pod's parseable addresses in order (primary first); unparseable ones are dropped
    here because validation of status is not the engine's job."""
    out: list[IPAddress] = []
    for text in pod.ips:
        addr = parse_ip(text)
        if addr is not None:
            out.append(effective_address(addr))
    return tuple(out)


def address_of_family(addrs: Sequence[IPAddress], family: int) -> IPAddress | None:
    for addr in addrs:
        if addr.version == family:
            return addr
    return None


class Regions:
    """The address line cut at every ipBlock boundary, per family, with regions that every
    block treats alike (inside all the same blocks) merged under one canonical id."""

    def __init__(self, blocks: Sequence[tuple[IPNetwork, Sequence[IPNetwork]]]) -> None:
        cuts: dict[int, set[int]] = {4: set(), 6: set()}
        for net, excepts in blocks:
            for n in (net, *excepts):
                cuts[n.version].add(int(n.network_address))
                cuts[n.version].add(int(n.broadcast_address) + 1)
        self._cuts = {f: sorted(c) for f, c in cuts.items()}
        self._canonical: dict[int, list[int]] = {}
        distinct_blocks = dict.fromkeys((net, tuple(excepts)) for net, excepts in blocks)
        for family in FAMILIES:
            # Regions split into groups by each block in turn (a block's members get ids of
            # their own), in memory of one id per region: a table of blocks by regions
            # grew with their product (55,000 ipBlock peers over 20,000 regions: 1.4 GB).
            size = len(self._cuts[family]) + 1
            ids = np.zeros(size, dtype=np.int64)
            fresh = 1
            for net, excepts in distinct_blocks:
                if net.version != family:
                    continue
                at = self._members(net, excepts)
                if not len(at):
                    continue
                groups, which = np.unique(ids[at], return_inverse=True)
                ids[at] = fresh + which.ravel()
                fresh += len(groups)
            # Numbered in order of first appearance, as regions come.
            _, first_at, which = np.unique(ids, return_index=True, return_inverse=True)
            rank = np.empty(len(first_at), dtype=np.int64)
            rank[np.argsort(first_at)] = np.arange(len(first_at))
            self._canonical[family] = rank[which.ravel()].tolist()

    def _members(self, net: IPNetwork, excepts: Sequence[IPNetwork]) -> npt.NDArray[np.int64]:
        """The raw regions inside a block: its span without its excepts' spans."""
        first, last = self.span(net)
        holes = sorted(self.span(ex) for ex in excepts if ex.version == net.version)
        pieces: list[npt.NDArray[np.int64]] = []
        at = first
        for start, stop in holes:
            lo, hi = max(start, first), min(stop, last)  # an except outside its block cuts nothing
            if lo >= hi:
                continue
            if lo > at:
                pieces.append(np.arange(at, lo, dtype=np.int64))
            at = max(at, hi)
        if last > at:
            pieces.append(np.arange(at, last, dtype=np.int64))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)

    def region(self, addr: IPAddress | None) -> int:
        """The raw region of an address (-1: none)."""
        if addr is None:
            return -1
        return bisect.bisect_right(self._cuts[addr.version], int(addr))

    def canonical(self, addr: IPAddress | None) -> int:
        """The region id shared by every address that all blocks treat alike (-1: none)."""
        if addr is None:
            return -1
        return self._canonical[addr.version][self.region(addr)]

    def bounds(self, family: int) -> list[tuple[int, int]]:
        """Every raw region of a family as its addresses ``[first, last)`` (integers);
        region ``r`` is ``bounds(family)[r]``, some of them empty."""
        edges = [0, *self._cuts[family], 1 << (32 if family == 4 else 128)]
        return list(itertools.pairwise(edges))

    def span(self, net: IPNetwork) -> tuple[int, int]:
        """Regions ``[first, last)`` covered by a network (it starts and ends on cuts)."""
        cuts = self._cuts[net.version]
        first = bisect.bisect_right(cuts, int(net.network_address))
        last = bisect.bisect_right(cuts, int(net.broadcast_address))
        return first, last + 1


class _Key(NamedTuple):
    namespace: str
    labels: tuple[tuple[str, str], ...]
    host_network: bool
    named_ports: tuple[tuple[Protocol, str, int], ...]
    regions: tuple[int, int]
    primary_family: int


def placeholders(label_values: Mapping[str, Collection[str]]) -> dict[str, str]:
    """Per key selectors read, a value standing for every value they do not name: ``OTHER``,
    lengthened in the (invalid) case that a selector names it."""
    out: dict[str, str] = {}
    for key, named in label_values.items():
        other = OTHER
        while other in named:
            other += OTHER
        out[key] = other
    return out


def build_classes(
    pods: Sequence[Pod],
    label_values: Mapping[str, Collection[str]],
    named: set[tuple[Protocol, str]],
    regions: Regions,
    addresses: Sequence[Sequence[IPAddress]],
) -> tuple[list[BehaviourClass], list[int]]:
    """Group pods into classes; returns the classes and each pod's class index.
    ``label_values`` maps every label key a pod selector reads to the values selectors
    compare it with (see the module's docstring); ``addresses[i]`` are pod i's parsed
    addresses (``pod_addresses``)."""
    other = placeholders(label_values)
    keys: dict[tuple[object, ...], int] = {}
    members: list[list[int]] = []
    protos: list[_Key] = []
    shown: list[tuple[tuple[str, str], ...]] = []  # the members' labels, OTHER where unlike
    pod_class: list[int] = []
    # A workload's pods carry the same labels: read as selectors see them once per label set.
    label_sets: dict[tuple[tuple[str, str], ...],
                     tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {}
    for i, pod in enumerate(pods):
        found = label_sets.get(pod.metadata.labels)
        if found is None:
            read = sorted([(k, v) for k, v in pod.labels.items() if k in other])
            found = label_sets[pod.metadata.labels] = (tuple(read), tuple(
                [(k, v if v in label_values[k] else other[k]) for k, v in read]))
        labels, seen_as = found
        ports: list[tuple[Protocol, str, int]] = []
        if named and not pod.host_network:  # node traffic: no named ports to resolve
            seen: set[tuple[Protocol, str]] = set()
            for cp in pod.container_ports():
                proto = _PROTOCOL_OF.get(cp.protocol)
                if proto is None:
                    continue
                if (proto, cp.name) in named and (proto, cp.name) not in seen:
                    seen.add((proto, cp.name))
                    ports.append((proto, cp.name, cp.container_port))
        addrs = addresses[i]
        v4, v6 = address_of_family(addrs, 4), address_of_family(addrs, 6)
        region_pair = (regions.canonical(v4), regions.canonical(v6))
        primary = addrs[0].version if addrs else 0
        named_ports = tuple(sorted(ports)) if ports else ()
        # A ``_Key``'s fields as a plain tuple: the class's key made only for a new class.
        key = (pod.namespace, seen_as, pod.host_network, named_ports, region_pair, primary)
        index = keys.get(key)
        if index is None:
            index = keys[key] = len(members)
            members.append([])
            # Members share the canonical region; any member's raw region stands for all.
            protos.append(_Key(pod.namespace, seen_as, pod.host_network, named_ports,
                               (regions.region(v4), regions.region(v6)), primary))
            shown.append(labels)
        elif shown[index] != labels:
            # Same keys in the same order (the key holds them); values differ only where
            # no selector names either.
            shown[index] = tuple((k, v if v == mine else other[k])
                                 for (k, v), (_, mine) in zip(shown[index], labels,
                                                              strict=True))
        members[index].append(i)
        pod_class.append(index)
    classes = [
        BehaviourClass(index, k.namespace, shown[index], k.host_network, k.named_ports,
                       k.regions, k.primary_family, tuple(members[index]))
        for index, k in enumerate(protos)
    ]
    return classes, pod_class
