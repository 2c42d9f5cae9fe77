"""The connectivity matrix: for every ordered pair of behaviour classes, the connections
allowed, as a bit set over *port classes* (port segments on which every rule agrees).

Nothing is evaluated per pair of pods. Each rule becomes, once, a vector over classes of the
port classes it allows to that class (``peer ? numeric | named-at-that-class : 0``). Classes
isolated by the same policies share one egress row; classes with the same policies and the
same resolved named ports share one ingress row. A pair's code is then
``egress_row[src][dst] & ingress_row[dst][src]``: two gathers and an AND, in row chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from stockade.engine.compile import CompiledRule
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.ports import PortSpan, format_connections
from stockade.model.types import PolicyType, Protocol

BoolMatrix = npt.NDArray[np.bool_]
Words = npt.NDArray[Any]  # unsigned ints; trailing axis: words of a port-class bit set
CHUNK_CELLS = 4_000_000  # pairs computed at once; bounds memory at any cluster size
EGRESS_CACHE_BYTES = 256 << 20  # egress rows kept between chunks


@dataclass(frozen=True, slots=True)
class PortClasses:
    """Port segments grouped by behaviour: ``of_segment[s]`` is segment s's port class."""

    of_segment: npt.NDArray[np.int64]
    segments: tuple[tuple[int, ...], ...]  # port class -> its segments

    @property
    def words(self) -> int:
        return max(1, (len(self.segments) + 63) // 64)


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
        k = keys.setdefault((columns[s], frozenset(named_at.get(s, ()))), len(keys))
        if k == len(groups):
            groups.append([])
        groups[k].append(s)
        of_segment[s] = k
    return PortClasses(of_segment, tuple(tuple(g) for g in groups))


def _word_type(port_classes: int) -> type[np.unsignedinteger[Any]]:
    """The narrowest unsigned integer that holds a bit per port class (64 bits per word
    beyond that): memory is the matrix's main cost at scale."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if port_classes <= np.iinfo(dtype).bits:
            return dtype
    return np.uint64


@dataclass(frozen=True, slots=True)
class RulePorts:
    """The port classes a rule allows: the same ``mask`` towards every class, plus, for a
    rule with named ports, what each class's named ports add (``named``, per class)."""

    mask: Words  # (words,)
    named: Words | None  # (n, words) or None

    def towards(self, cls: int) -> Words:
        return self.mask if self.named is None else self.mask | self.named[cls]

    def table(self) -> Words:
        """Per destination class (``(n, words)``, or ``(words,)`` to broadcast)."""
        return self.mask if self.named is None else self.mask | self.named


class MatrixBuilder:
    """Computes port-class codes between classes, in chunks of source classes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ports = port_classes(engine)
        self.n = len(engine.classes)
        k_total = len(self.ports.segments)
        self.dtype = _word_type(k_total)
        self.bits = np.iinfo(self.dtype).bits
        self.words = max(1, (k_total + self.bits - 1) // self.bits)
        self.full = np.bitwise_or.reduce(self.onehot(np.arange(k_total, dtype=np.int64)),
                                         axis=0) if k_total else self.zero()
        # Each class's named ports as port classes, per (protocol, name).
        self._named: dict[tuple[Protocol, str], npt.NDArray[np.int64]] = {}
        space = engine.space
        for cls in engine.classes:
            for proto, name, number in cls.named_ports:
                arr = self._named.setdefault((proto, name), np.full(self.n, -1, dtype=np.int64))
                arr[cls.index] = self.ports.of_segment[space.segment_of(proto, number)]
        self._rule_ports: dict[int, RulePorts] = {}
        self.primary = np.array([c.primary_family for c in engine.classes], dtype=np.int64)
        self.secondary = np.array([c.secondary_family for c in engine.classes],
                                  dtype=np.int64)
        self.has = {f: np.array([c.regions[i] >= 0 for c in engine.classes], dtype=np.bool_)
                    for i, f in enumerate((4, 6))}
        blocks = {f for cp in engine.compiled for rs in cp.rules.values() for r in rs
                  for f in r.block_members}
        self.variants = [*sorted(blocks), 0]  # families whose ipBlocks differ, then none
        self._egress_types: tuple[npt.NDArray[np.int64], list[tuple[int, ...]]] | None = None
        self._egress_rows: dict[tuple[int, int], Words] = {}
        self._ingress_types: tuple[npt.NDArray[np.int64], list[tuple[tuple[int, ...], int]]] \
            | None = None

    def zero(self) -> Words:
        return np.zeros(self.words, dtype=self.dtype)

    def onehot(self, indices: npt.NDArray[np.int64]) -> Words:
        """One-hot bit sets (``(len, words)``) for port class indices; -1 gives no bit."""
        out = np.zeros((len(indices), self.words), dtype=self.dtype)
        valid = indices >= 0
        ks = indices[valid]
        one = self.dtype(1)
        np.bitwise_or.at(out, (np.flatnonzero(valid), ks // self.bits),
                         np.left_shift(one, (ks % self.bits).astype(self.dtype)))
        return out

    def rule_ports(self, rule: CompiledRule) -> RulePorts:
        key = id(rule)
        cached = self._rule_ports.get(key)
        if cached is not None:
            return cached
        if rule.any_port:
            result = RulePorts(self.full, None)
        else:
            # bincount, not np.unique: the latter imports numpy.ma (20 ms of start-up).
            covered = self.ports.of_segment[np.flatnonzero(rule.segments)]
            numeric = np.flatnonzero(np.bincount(covered, minlength=1)).astype(np.int64)
            mask = (np.bitwise_or.reduce(self.onehot(numeric), axis=0) if len(numeric)
                    else self.zero())
            named: Words | None = None
            for entry in rule.named:
                arr = self._named.get(entry)
                if arr is not None:
                    bits = self.onehot(arr)
                    named = bits if named is None else named | bits
            result = RulePorts(mask, named)
        self._rule_ports[key] = result
        return result

    def _rules(self, policies: Sequence[int], direction: PolicyType) -> list[CompiledRule]:
        return [r for i in policies for r in self.engine.compiled[i].rules[direction]]

    def egress_types(self) -> tuple[npt.NDArray[np.int64], list[tuple[int, ...]]]:
        """Row type of each source class (classes isolated by the same policies share one),
        and per type its isolating policies; type 0 is "not isolated"."""
        if self._egress_types is None:
            engine = self.engine
            types: dict[tuple[int, ...], int] = {(): 0}
            of_class = np.zeros(self.n, dtype=np.int64)
            for cls in engine.classes:
                key = tuple(engine.isolating[EGRESS][cls.index])
                of_class[cls.index] = types.setdefault(key, len(types))
            self._egress_types = (of_class, list(types))
        return self._egress_types

    def egress_row(self, variant: int, row_type: int) -> Words:
        """``row[dst]`` = the port classes a source of this type may open to ``dst``.
        Cached up to a memory bound: chunks mostly need the types of one namespace."""
        key = (variant, row_type)
        row = self._egress_rows.get(key)
        if row is not None:
            return row
        row = np.empty((self.n, self.words), dtype=self.dtype)
        row[:] = self.full
        policies = self.egress_types()[1][row_type]
        if policies:
            row[:] = 0
            for rule in self._rules(policies, EGRESS):
                row |= np.where(rule.peer_classes(variant)[:, None],
                                self.rule_ports(rule).table(), self.dtype(0))
        if len(self._egress_rows) * row.nbytes > EGRESS_CACHE_BYTES:
            self._egress_rows.clear()
        self._egress_rows[key] = row
        return row

    def ingress_types(self) -> tuple[npt.NDArray[np.int64], list[tuple[tuple[int, ...], int]]]:
        """Row type of each destination class, and per type its isolating policies and a
        representative class: classes with the same policies and the same ports allowed
        to them by every rule share a row."""
        if self._ingress_types is not None:
            return self._ingress_types
        engine = self.engine
        types: dict[tuple[object, ...], int] = {(): 0}
        members: list[tuple[tuple[int, ...], int]] = [((), -1)]
        of_class = np.zeros(self.n, dtype=np.int64)
        for cls in engine.classes:
            isolating = tuple(engine.isolating[INGRESS][cls.index])
            if not isolating:
                continue
            ports = tuple(self.rule_ports(r).towards(cls.index).tobytes()
                          for r in self._rules(isolating, INGRESS))
            key = (isolating, ports)
            if key not in types:
                types[key] = len(types)
                members.append((isolating, cls.index))
            of_class[cls.index] = types[key]
        self._ingress_types = (of_class, members)
        return self._ingress_types

    def ingress_block(self, variant: int, first: int, last: int) -> Words:
        """``rows[type][src]`` for sources ``first..last-1`` only: computed per chunk, so
        memory stays at types x chunk however large the cluster."""
        _, members = self.ingress_types()
        rows = np.zeros((len(members), last - first, self.words), dtype=self.dtype)
        rows[0] = self.full
        for t in range(1, len(members)):
            isolating, representative = members[t]
            for rule in self._rules(isolating, INGRESS):
                port_bits = self.rule_ports(rule).towards(representative)
                rows[t] |= np.where(rule.peer_classes(variant)[first:last, None], port_bits,
                                    self.dtype(0))
        return rows

    def codes(self, first: int, last: int) -> Words:
        """Port-class bit sets for source classes ``first..last-1`` to every class:
        shape ``(last - first, n, words)``."""
        src = np.arange(first, last)
        fam = self.pair_family(src)
        result: Words | None = None
        done = np.zeros(fam.shape, dtype=np.bool_)
        for variant in self.variants:
            mask = (fam == variant) if variant else ~done
            if not mask.any():
                continue
            done |= mask
            e_type = self.egress_types()[0][src]
            present, inverse = np.unique(e_type, return_inverse=True)
            rows = np.stack([self.egress_row(variant, int(t)) for t in present])
            egress = rows[inverse.ravel()]  # (chunk, dst, w)
            i_type, _ = self.ingress_types()
            ingress = self.ingress_block(variant, first, last)[i_type].transpose(1, 0, 2)
            codes = egress & ingress
            if not mask.all():
                codes = np.where(mask[:, :, None], codes, self.dtype(0))
            result = codes if result is None else result | codes
        if result is None:
            return np.zeros((last - first, self.n, self.words), dtype=self.dtype)
        return result

    def pair_family(self, src: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The family of each (source, destination) pair, as ``Engine._family`` picks it:
        the source's primary family if the destination has it, else the source's other
        family if the destination has that, else the source's primary, else the
        destination's primary."""
        first, second = self.primary[src, None], self.secondary[src, None]

        def dst_has(family: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
            has: npt.NDArray[np.bool_] = (((family == 4) & self.has[4][None, :])
                                          | ((family == 6) & self.has[6][None, :]))
            return has

        fallback = np.where(first != 0, first, self.primary[None, :])
        return np.where(dst_has(first), first,
                        np.where(dst_has(second), second, fallback)).astype(np.int64)

    def spans(self, port_class: int) -> list[PortSpan]:
        space = self.engine.space
        return [space.segments[s] for s in self.ports.segments[port_class]]

    def chunks(self) -> Iterator[tuple[int, int]]:
        step = max(1, CHUNK_CELLS // max(1, self.n * self.words))
        for first in range(0, self.n, step):
            yield first, min(self.n, first + step)


@dataclass(frozen=True, slots=True)
class ConnectivityMatrix:
    """Connections allowed between classes: ``texts[codes[src, dst]]``. ``texts`` always
    holds ``all`` (the verdict of a pod towards itself and node traffic)."""

    engine: Engine
    codes: npt.NDArray[np.int32]
    texts: tuple[str, ...]

    @property
    def all_id(self) -> int:
        return self.texts.index("all")

    def between_classes(self, src: int, dst: int) -> str:
        return self.texts[int(self.class_row(src)[dst])]

    def between_pods(self, src: int, dst: int) -> str:
        if src == dst or self.engine.node_traffic(src, dst):
            return "all"
        pc = self.engine.pod_class
        return self.texts[int(self.codes[pc[src], pc[dst]])]

    def class_row(self, src: int) -> npt.NDArray[np.int32]:
        """Text ids from class ``src`` to every class; a class of one pod reaches itself."""
        row: npt.NDArray[np.int32] = self.codes[src]
        return row

    def pod_row(self, src: int) -> npt.NDArray[np.int32]:
        """Text ids from pod ``src`` to every pod, node traffic and itself included."""
        pc = np.asarray(self.engine.pod_class)
        row: npt.NDArray[np.int32] = self.codes[pc[src]][pc].copy()
        row[src] = self.all_id
        for dst in self.engine.node_peers(src):
            row[dst] = self.all_id
        return row


LOOKUP_BITS = 22  # up to this many port classes, codes are numbered through a table


class ClassRows:
    """The matrix streamed: iterating yields ``(src, ids)`` per source class, where
    ``texts[ids[dst]]`` is what class ``src`` may open to class ``dst`` (distinct pods; a class
    of one pod reaches itself). ``texts`` grows as new connection sets turn up, and always
    holds ``all``. Memory stays at one chunk of rows, whatever the cluster's size."""

    def __init__(self, engine: Engine,
                 progress: Callable[[float], None] | None = None) -> None:
        self.engine = engine
        self.builder = MatrixBuilder(engine)
        self.progress = progress
        self.texts: list[str] = []
        self._known: dict[bytes, int] = {}
        k_total = len(self.builder.ports.segments)
        self._table: npt.NDArray[np.int32] | None = None
        if k_total <= LOOKUP_BITS and self.builder.words == 1:
            self._table = np.full(1 << k_total, -1, dtype=np.int32)
        self.all_id = self._text_id(self.builder.full.tobytes())

    def _text_id(self, raw: bytes) -> int:
        known = self._known.get(raw)
        if known is None:
            k_total = len(self.builder.ports.segments)
            bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
            spans = [s for k in np.flatnonzero(bits[:k_total])
                     for s in self.builder.spans(int(k))]
            known = self._known[raw] = len(self.texts)
            self.texts.append(format_connections(spans))
        return known

    def _ids(self, block: Words) -> npt.NDArray[np.int32]:
        """Text ids of a block of codes (``(chunk, n, words)`` -> ``(chunk, n)``)."""
        chunk, n, words = block.shape
        if self._table is not None:
            flat = block[:, :, 0].astype(np.int64)
            for value in np.flatnonzero(np.bincount(flat.ravel(), minlength=len(self._table))):
                if self._table[value] < 0:
                    raw = np.array([value], dtype=self.builder.dtype).tobytes()
                    self._table[value] = self._text_id(raw)
            ids: npt.NDArray[np.int32] = self._table[flat]
            return ids
        void = np.ascontiguousarray(block.reshape(-1, words)).view(
            np.dtype((np.void, block.dtype.itemsize * words))).ravel()
        uniq, inverse = np.unique(void, return_inverse=True)
        local = np.array([self._text_id(u.tobytes()) for u in uniq], dtype=np.int32)
        out: npt.NDArray[np.int32] = local[inverse.reshape(chunk, n)]
        return out

    def __iter__(self) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        n = self.builder.n
        for first, last in self.builder.chunks():
            ids = self._ids(self.builder.codes(first, last))
            for src in range(first, last):
                row = ids[src - first]
                if len(self.engine.classes[src].members) == 1:
                    row[src] = self.all_id
                yield src, row
            if self.progress is not None:
                self.progress(last / n)


def connectivity(engine: Engine,
                 progress: Callable[[float], None] | None = None) -> ConnectivityMatrix:
    """The whole matrix in memory (classes x classes); ``ClassRows`` streams it instead."""
    rows = ClassRows(engine, progress)
    n = len(engine.classes)
    ids = np.zeros((n, n), dtype=np.int32)
    for src, row in rows:
        ids[src] = row
    return ConnectivityMatrix(engine, ids, tuple(rows.texts))


def port_reachability(engine: Engine, protocol: Protocol, port: int) -> BoolMatrix:
    """``allowed[src, dst]`` between classes for one protocol and port."""
    builder = MatrixBuilder(engine)
    k = int(builder.ports.of_segment[engine.space.segment_of(protocol, port)])
    word, bit = k // builder.bits, builder.dtype(1 << (k % builder.bits))
    out = np.zeros((builder.n, builder.n), dtype=np.bool_)
    for first, last in builder.chunks():
        out[first:last] = (builder.codes(first, last)[:, :, word] & bit) != 0
    return out


def reachable_pods(engine: Engine, allowed: BoolMatrix, src: int) -> Iterator[int]:
    """Pod indices that pod ``src`` may connect to (itself included), in input order."""
    pc = np.asarray(engine.pod_class)
    row = allowed[pc[src]][pc].copy()
    row[src] = True
    for peer in engine.node_peers(src):
        row[peer] = True
    for dst in np.flatnonzero(row):
        yield int(dst)
