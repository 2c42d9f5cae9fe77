"""The connectivity matrix: for every ordered pair of behaviour classes, the connections
allowed, computed with boolean matrices per *port class* (port segments on which every rule
agrees), never per pair of pods. ``allowed[src, dst] = egress[src, dst] & ingress[dst, src]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.ports import PortSpan, format_connections
from stockade.engine.selectors import BoolArray
from stockade.model.types import PolicyType, Protocol

BoolMatrix = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PortClasses:
    """Port segments grouped by behaviour: ``of_segment[s]`` is segment s's port class."""

    of_segment: npt.NDArray[np.int64]
    segments: tuple[tuple[int, ...], ...]  # port class -> its segments


def port_classes(engine: Engine) -> PortClasses:
    space = engine.space
    rules = [r for cp in engine.compiled for rs in cp.rules.values() for r in rs if not r.any_port]
    if rules:
        covered = np.packbits(np.stack([r.segments for r in rules]), axis=0)
        columns = [covered[:, s].tobytes() for s in range(len(space))]
    else:
        columns = [b""] * len(space)
    named_at: dict[int, set[tuple[Protocol, str, int]]] = {}
    for cls in engine.classes:
        for proto, name, number in cls.named_ports:
            named_at.setdefault(space.segment_of(proto, number), set()).add((proto, name, number))
    keys: dict[tuple[bytes, frozenset[tuple[Protocol, str, int]]], int] = {}
    of_segment = np.zeros(len(space), dtype=np.int64)
    groups: list[list[int]] = []
    for s in range(len(space)):
        key = (columns[s], frozenset(named_at.get(s, ())))
        k = keys.setdefault(key, len(keys))
        if k == len(groups):
            groups.append([])
        groups[k].append(s)
        of_segment[s] = k
    return PortClasses(of_segment, tuple(tuple(g) for g in groups))


def _same_node(engine: Engine) -> BoolMatrix | None:
    """Pairs of classes where one is host-networked on the other's node (node traffic)."""
    host = [c for c in engine.classes if c.host_network and c.node]
    if not host:
        return None
    n = len(engine.classes)
    out = np.zeros((n, n), dtype=np.bool_)
    for h in host:
        for c in engine.classes:
            if c.node == h.node:
                out[h.index, c.index] = out[c.index, h.index] = True
    return out


class MatrixBuilder:
    """Computes class-by-class allowed matrices for one port class at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ports = port_classes(engine)
        self.n = len(engine.classes)
        self.host = np.array([c.host_network for c in engine.classes], dtype=np.bool_)
        self.same_node = _same_node(engine)
        primary = np.array([c.primary_family for c in engine.classes], dtype=np.int64)
        # The family of a pair: the source's primary family, else the destination's.
        pair_family = np.where(primary[:, None] != 0, primary[:, None], primary[None, :])
        self.families = {int(f): pair_family == f for f in np.unique(pair_family)}

    def _side(self, direction: PolicyType, family: int, port_class: int) -> BoolMatrix:
        """Rows: subject classes; columns: peers they accept (egress: destinations,
        ingress: sources), for one family and port class."""
        engine = self.engine
        segment = self.ports.segments[port_class][0]
        out = np.ones((self.n, self.n), dtype=np.bool_)
        cache: dict[tuple[int, ...], BoolArray] = {}
        for cls in engine.classes:
            isolating = engine.isolating[direction][cls.index]
            if not isolating:
                continue
            key = tuple(isolating)
            row = cache.get(key) if direction is EGRESS else None
            if row is None:
                row = np.zeros(self.n, dtype=np.bool_)
                for i in isolating:
                    for rule in engine.compiled[i].rules[direction]:
                        ports = rule.port_classes(segment, engine.classes, engine.space)
                        peers = rule.peer_classes(family)
                        if direction is EGRESS:
                            row |= peers if ports is None else peers & ports
                        elif ports is None or ports[cls.index]:
                            row |= peers
                if direction is EGRESS:
                    cache[key] = row
            out[cls.index] = row
        if self.same_node is not None:
            out |= self.same_node
        return out

    def allowed(self, port_class: int) -> BoolMatrix:
        """``allowed[src, dst]`` between classes (pairs of distinct pods) for a port class."""
        result = np.zeros((self.n, self.n), dtype=np.bool_)
        for family, mask in self.families.items():
            egress = self._side(EGRESS, family, port_class)
            ingress = self._side(INGRESS, family, port_class)
            result |= egress & ingress.T & mask
        return result

    def spans(self, port_class: int) -> list[PortSpan]:
        space = self.engine.space
        return [space.segments[s] for s in self.ports.segments[port_class]]


@dataclass(frozen=True, slots=True)
class ConnectivityMatrix:
    """Connections allowed between classes: ``texts[codes[src, dst]]``."""

    engine: Engine
    codes: npt.NDArray[np.int64]
    texts: tuple[str, ...]

    def between_classes(self, src: int, dst: int) -> str:
        if src == dst and len(self.engine.classes[src].members) == 1:
            return "all"  # the only pair is the pod and itself
        return self.texts[int(self.codes[src, dst])]

    def between_pods(self, src: int, dst: int) -> str:
        if src == dst:
            return "all"
        pc = self.engine.pod_class
        return self.texts[int(self.codes[pc[src], pc[dst]])]


def connectivity(engine: Engine) -> ConnectivityMatrix:
    builder = MatrixBuilder(engine)
    n, k_total = builder.n, len(builder.ports.segments)
    planes = np.zeros((n, n, max(1, (k_total + 7) // 8)), dtype=np.uint8)
    for k in range(k_total):
        planes[:, :, k // 8] |= builder.allowed(k).astype(np.uint8) << np.uint8(k % 8)
    flat = planes.reshape(n * n, -1)
    if flat.shape[1] <= 8:
        padded = np.zeros((n * n, 8), dtype=np.uint8)
        padded[:, : flat.shape[1]] = flat
        keys = padded.view(np.uint64).ravel()
        uniq, inverse = np.unique(keys, return_inverse=True)
        uniq_rows = uniq.view(np.uint8).reshape(-1, 8)[:, : flat.shape[1]]
    else:
        void = np.ascontiguousarray(flat).view(np.dtype((np.void, flat.shape[1]))).ravel()
        uniq_v, inverse = np.unique(void, return_inverse=True)
        uniq_rows = uniq_v.view(np.uint8).reshape(-1, flat.shape[1])
    texts: list[str] = []
    for row in uniq_rows:
        bits = np.unpackbits(row, bitorder="little")[:k_total]
        spans = [s for k in np.flatnonzero(bits) for s in builder.spans(int(k))]
        texts.append(format_connections(spans))
    return ConnectivityMatrix(engine, inverse.reshape(n, n).astype(np.int64), tuple(texts))


def port_reachability(engine: Engine, protocol: Protocol, port: int) -> BoolMatrix:
    """``allowed[src, dst]`` between classes for one protocol and port."""
    builder = MatrixBuilder(engine)
    segment = engine.space.segment_of(protocol, port)
    return builder.allowed(int(builder.ports.of_segment[segment]))


def reachable_pods(engine: Engine, allowed: BoolMatrix, src: int) -> Iterator[int]:
    """Pod indices that pod ``src`` may connect to (itself included), in input order."""
    row = allowed[engine.pod_class[src]]
    for dst in range(len(engine.pods)):
        if dst == src or row[engine.pod_class[dst]]:
            yield dst
