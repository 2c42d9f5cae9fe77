"""The connectivity matrix: for every ordered pair of behaviour classes, the connections
allowed, computed without ever evaluating a pair of pods on its own.

What a source class may open to a destination class depends only on a *pair key*: the
source's egress type (the policies isolating it), which of that type's egress rules have
peers matching the destination (a bit mask), the destination's named ports, its ingress type
(the policies isolating it, with their ports resolved on it), and which of those ingress
rules have peers matching the source (a bit mask). Keys are computed for a chunk of source
rows at a time with a few vector operations per rule; the connection set of each distinct
key is then worked out once, as interval arithmetic on the rules' ports. The cost follows the
number of pairs and rules, not the number of distinct port numbers the policies mention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.compile import CompiledRule
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.ports import MAX_PORT, MIN_PORT, PROTOCOLS, PortSpan, format_connections
from stockade.model.types import PolicyType, Protocol

BoolMatrix = npt.NDArray[np.bool_]
Keys = npt.NDArray[np.uint64]
CHUNK_CELLS = 2_000_000  # pairs whose keys are computed at once: bounds memory at any size
MASK_CACHE_BYTES = 256 << 20  # egress masks kept between chunks

# Port sets as sorted, merged (protocol index, first, last) triples.
Spans = tuple[tuple[int, int, int], ...]
ALL: Spans = tuple((p, MIN_PORT, MAX_PORT) for p in range(len(PROTOCOLS)))
_PROTOCOL_INDEX = {p: i for i, p in enumerate(PROTOCOLS)}


def _merge(spans: Sequence[tuple[int, int, int]]) -> Spans:
    out: list[tuple[int, int, int]] = []
    for proto, first, last in sorted(spans):
        if out and out[-1][0] == proto and first <= out[-1][2] + 1:
            out[-1] = (proto, out[-1][1], max(out[-1][2], last))
        else:
            out.append((proto, first, last))
    return tuple(out)


def _intersect(a: Spans, b: Spans) -> Spans:
    if a is ALL:
        return b
    if b is ALL:
        return a
    out = [(p, max(f1, f2), min(l1, l2)) for p, f1, l1 in a for q, f2, l2 in b
           if p == q and max(f1, f2) <= min(l1, l2)]
    return _merge(out)


def _contains(spans: Spans, protocol: int, port: int) -> bool:
    return any(p == protocol and first <= port <= last for p, first, last in spans)


def _text(spans: Spans) -> str:
    return format_connections(PortSpan(PROTOCOLS[p], first, last) for p, first, last in spans)


# Odd 64-bit multipliers for hashing key rows (see ``PairKeys.number``).
_MIX = (np.random.default_rng(20261126).integers(1, 2**62, size=4096, dtype=np.uint64)
        * np.uint64(2) + np.uint64(1))


class PairKeys:
    """Pair keys of one engine, in chunks of source classes, and what each key allows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        classes = engine.classes
        self.n = n = len(classes)
        # Egress types: classes isolated for egress by the same policies share one.
        e_types: dict[tuple[int, ...], int] = {(): 0}
        self.e_type = np.zeros(n, dtype=np.int64)
        for cls in classes:
            key = tuple(engine.isolating[EGRESS][cls.index])
            self.e_type[cls.index] = e_types.setdefault(key, len(e_types))
        self.e_rules = [self._rules(policies, EGRESS) for policies in e_types]
        # Ingress types: the same policies, and the same ports once named ports are resolved
        # on the class (the destination).
        i_types: dict[tuple[object, ...], int] = {(): 0}
        self.i_type = np.zeros(n, dtype=np.int64)
        self.i_rules: list[list[CompiledRule]] = [[]]
        self.i_spans: list[list[Spans]] = [[]]
        for cls in classes:
            isolating = tuple(engine.isolating[INGRESS][cls.index])
            if not isolating:
                continue
            rules = self._rules(isolating, INGRESS)
            spans = [self.rule_spans(rule, cls.index) for rule in rules]
            i_key = (isolating, tuple(spans))
            if i_key not in i_types:
                i_types[i_key] = len(i_types)
                self.i_rules.append(rules)
                self.i_spans.append(spans)
            self.i_type[cls.index] = i_types[i_key]
        # Destinations with the same named ports resolve every egress rule alike.
        signatures: dict[object, int] = {}
        self.named = np.zeros(n, dtype=np.int64)
        self.named_rep: list[int] = []
        for cls in classes:
            sig = signatures.setdefault(cls.named_ports, len(signatures))
            if sig == len(self.named_rep):
                self.named_rep.append(cls.index)
            self.named[cls.index] = sig
        # Only egress types with named-port rules care which named ports a destination has.
        self.e_named = np.array([any(r.named for r in rules) for rules in self.e_rules],
                                dtype=np.int64)
        self.e_words = max(1, (max(map(len, self.e_rules)) + 63) // 64)
        self.i_words = max(1, (max(map(len, self.i_rules)) + 63) // 64)
        self.width = 3 + self.e_words + self.i_words
        self.primary = np.array([c.primary_family for c in classes], dtype=np.int64)
        self.secondary = np.array([c.secondary_family for c in classes], dtype=np.int64)
        self.has = {f: np.array([c.regions[i] >= 0 for c in classes], dtype=np.bool_)
                    for i, f in enumerate((4, 6))}
        blocks = {f for cp in engine.compiled for rs in cp.rules.values() for r in rs
                  for f in r.block_members}
        self.variants = [*sorted(blocks), 0]  # families whose ipBlocks differ, then none
        self._e_masks: dict[tuple[int, int], Keys] = {}
        self._e_spans: dict[tuple[int, bytes, int], Spans] = {}
        self._i_spans: dict[tuple[int, bytes], Spans] = {}

    def _rules(self, policies: Sequence[int], direction: PolicyType) -> list[CompiledRule]:
        return [r for i in policies for r in self.engine.compiled[i].rules[direction]]

    def rule_spans(self, rule: CompiledRule, destination: int) -> Spans:
        """The ports a rule allows towards a destination class (named ports resolved)."""
        if rule.any_port:
            return ALL
        cls = self.engine.classes[destination]
        spans = []
        for port in rule.ports:
            proto = _PROTOCOL_INDEX[port.protocol]
            if not port.name:
                spans.append((proto, port.first, port.last))
                continue
            number = cls.named_port(port.protocol, port.name)
            if number is not None:
                spans.append((proto, number, number))
        return _merge(spans)

    # --- keys ------------------------------------------------------------------------------

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

    @staticmethod
    def _masks(rules: Sequence[CompiledRule], variant: int, rows: slice, size: int,
               words: int) -> Keys:
        """Bit j of a row: rule j's peers match that class (``(size, words)``)."""
        out = np.zeros((size, words), dtype=np.uint64)
        for j, rule in enumerate(rules):
            hit = rule.peer_classes(variant)[rows].astype(np.uint64)
            out[:, j // 64] |= hit << np.uint64(j % 64)
        return out

    def egress_masks(self, variant: int, e_type: int) -> Keys:
        """Per destination class, which rules of this egress type match it (cached)."""
        key = (variant, e_type)
        masks = self._e_masks.get(key)
        if masks is None:
            masks = self._masks(self.e_rules[e_type], variant, slice(None), self.n,
                                self.e_words)
            if len(self._e_masks) * masks.nbytes > MASK_CACHE_BYTES:
                self._e_masks.clear()
            self._e_masks[key] = masks
        return masks

    def keys(self, first: int, last: int) -> Keys:
        """Keys of the pairs (source ``first..last-1``, every destination):
        ``(chunk, n, width)``."""
        n, chunk = self.n, last - first
        src = np.arange(first, last)
        keys = np.zeros((chunk, n, self.width), dtype=np.uint64)
        e_type = self.e_type[src]
        keys[:, :, 0] = e_type[:, None].astype(np.uint64)
        keys[:, :, 1] = (self.named[None, :] * self.e_named[e_type][:, None]).astype(np.uint64)
        keys[:, :, 2] = self.i_type[None, :].astype(np.uint64)
        fam = self.pair_family(src)
        done = np.zeros(fam.shape, dtype=np.bool_)
        e_cols = slice(3, 3 + self.e_words)
        i_cols = slice(3 + self.e_words, self.width)
        for variant in self.variants:
            mask = (fam == variant) if variant else ~done
            if not mask.any():
                continue
            done |= mask
            egress = np.zeros((chunk, n, self.e_words), dtype=np.uint64)
            for t in np.unique(e_type):
                if t:
                    egress[e_type == t] = self.egress_masks(variant, int(t))
            ingress = np.zeros((chunk, n, self.i_words), dtype=np.uint64)
            for t in range(1, len(self.i_rules)):
                dsts = np.flatnonzero(self.i_type == t)
                if len(dsts):
                    block = self._masks(self.i_rules[t], variant, slice(first, last), chunk,
                                        self.i_words)
                    ingress[:, dsts] = block[:, None, :]
            if mask.all():
                keys[:, :, e_cols] = egress
                keys[:, :, i_cols] = ingress
            else:
                keys[:, :, e_cols] |= np.where(mask[:, :, None], egress, np.uint64(0))
                keys[:, :, i_cols] |= np.where(mask[:, :, None], ingress, np.uint64(0))
        return keys

    @staticmethod
    def number(flat: Keys) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Distinct rows of ``flat`` (cells x columns): (index of each distinct row's first
        cell, each cell's distinct row). Rows are numbered through a 64-bit hash, checked
        cell by cell against the first cell of its hash; a collision falls back to an exact
        sort."""
        width = flat.shape[1]
        flat = np.ascontiguousarray(flat)
        mixed = flat * _MIX[:width]
        hashes = np.bitwise_xor.reduce(mixed ^ (mixed >> np.uint64(31)), axis=1)
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        if not np.array_equal(flat, flat[first[inverse]]):
            void = flat.view(np.dtype((np.void, 8 * width))).ravel()
            _, first, inverse = np.unique(void, return_index=True, return_inverse=True)
            inverse = inverse.ravel()
        return first, inverse

    # --- what a key allows -----------------------------------------------------------------

    def spans(self, key: Keys) -> Spans:
        return _intersect(self.egress_spans(key), self.ingress_spans(key))

    def egress_spans(self, key: Keys) -> Spans:
        return self._egress_spans(int(key[0]), key[3: 3 + self.e_words], int(key[1]))

    def ingress_spans(self, key: Keys) -> Spans:
        return self._ingress_spans(int(key[2]), key[3 + self.e_words:])

    def halves(self, block: Keys) -> tuple[Keys, Keys]:
        """A block's keys as (egress half, ingress half), one row per cell."""
        flat = block.reshape(-1, self.width)
        e_cols = [0, 1, *range(3, 3 + self.e_words)]
        i_cols = [2, *range(3 + self.e_words, self.width)]
        return flat[:, e_cols], flat[:, i_cols]

    def full_key(self, e_half: Keys, i_half: Keys) -> Keys:
        key = np.zeros(self.width, dtype=np.uint64)
        key[[0, 1, *range(3, 3 + self.e_words)]] = e_half
        key[[2, *range(3 + self.e_words, self.width)]] = i_half
        return key

    def _egress_spans(self, e_type: int, mask: Keys, named: int) -> Spans:
        if e_type == 0:
            return ALL
        memo = (e_type, mask.tobytes(), named)
        found = self._e_spans.get(memo)
        if found is None:
            dst = self.named_rep[named]
            found = self._union(self.e_rules[e_type], mask,
                                lambda _j, rule: self.rule_spans(rule, dst))
            self._e_spans[memo] = found
        return found

    def _ingress_spans(self, i_type: int, mask: Keys) -> Spans:
        if i_type == 0:
            return ALL
        memo = (i_type, mask.tobytes())
        found = self._i_spans.get(memo)
        if found is None:
            spans = self.i_spans[i_type]
            found = self._union(self.i_rules[i_type], mask, lambda j, _rule: spans[j])
            self._i_spans[memo] = found
        return found

    @staticmethod
    def _union(rules: Sequence[CompiledRule], mask: Keys,
               spans_of: Callable[[int, CompiledRule], Spans]) -> Spans:
        parts: list[tuple[int, int, int]] = []
        for j, rule in enumerate(rules):
            if int(mask[j // 64]) >> (j % 64) & 1:
                found = spans_of(j, rule)
                if found is ALL:
                    return ALL
                parts.extend(found)
        merged = _merge(parts)
        return ALL if merged == ALL else merged

    def chunks(self) -> Iterator[tuple[int, int]]:
        step = max(1, CHUNK_CELLS // max(1, self.n))
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




class _Sets:
    """Port sets numbered as they turn up, so that pairs of them are memoised by number."""

    def __init__(self) -> None:
        self.ids: dict[Spans, int] = {}
        self.spans: list[Spans] = []

    def id(self, spans: Spans) -> int:
        found = self.ids.get(spans)
        if found is None:
            found = self.ids[spans] = len(self.spans)
            self.spans.append(spans)
        return found


def _block_sets(keys: PairKeys, block: Keys, sets: _Sets,
                memo: dict[tuple[int, bytes], int]) -> tuple[npt.NDArray[np.int64],
                                                             npt.NDArray[np.int64]]:
    """For each cell of a block: the number of its egress port set and of its ingress one."""
    halves = keys.halves(block)
    out = []
    for side, half in enumerate(halves):
        cells, inverse = keys.number(half)
        local = np.empty(len(cells), dtype=np.int64)
        for u, c in enumerate(cells):
            raw = (side, half[c].tobytes())
            found = memo.get(raw)
            if found is None:
                key = (keys.full_key(half[c], np.zeros(len(halves[1][0]), dtype=np.uint64))
                       if side == 0 else
                       keys.full_key(np.zeros(len(halves[0][0]), dtype=np.uint64), half[c]))
                spans = keys.egress_spans(key) if side == 0 else keys.ingress_spans(key)
                found = memo[raw] = sets.id(spans)
            local[u] = found
        out.append(local[inverse])
    return out[0], out[1]


def _pairs(e_ids: npt.NDArray[np.int64], i_ids: npt.NDArray[np.int64]
           ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Distinct (egress set, ingress set) pairs: (the pairs as numbers, each cell's pair)."""
    combined = e_ids * np.int64(1 << 31) + i_ids
    uniq, inverse = np.unique(combined, return_inverse=True)
    return uniq, inverse.ravel()


class ClassRows:
    """The matrix streamed: iterating yields ``(src, ids)`` per source class, where
    ``texts[ids[dst]]`` is what class ``src`` may open to class ``dst`` (distinct pods; a class
    of one pod reaches itself). ``texts`` grows as new connection sets turn up, and always
    holds ``all``. Memory stays at one chunk of rows, whatever the cluster's size."""

    def __init__(self, engine: Engine,
                 progress: Callable[[float], None] | None = None) -> None:
        self.engine = engine
        self.keys = PairKeys(engine)
        self.progress = progress
        self.texts: list[str] = ["all"]
        self.all_id = 0
        self._ids: dict[str, int] = {"all": 0}
        self._sets = _Sets()
        self._half_memo: dict[tuple[int, bytes], int] = {}
        self._pair_memo: dict[int, int] = {}

    def _text_id(self, pair: int) -> int:
        found = self._pair_memo.get(pair)
        if found is None:
            e_set, i_set = divmod(pair, 1 << 31)
            spans = _intersect(self._sets.spans[e_set], self._sets.spans[i_set])
            text = _text(spans)
            found = self._ids.setdefault(text, len(self.texts))
            if found == len(self.texts):
                self.texts.append(text)
            self._pair_memo[pair] = found
        return found

    def __iter__(self) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        n = self.keys.n
        for first, last in self.keys.chunks():
            e_ids, i_ids = _block_sets(self.keys, self.keys.keys(first, last), self._sets,
                                       self._half_memo)
            pairs, inverse = _pairs(e_ids, i_ids)
            local = np.array([self._text_id(int(p)) for p in pairs], dtype=np.int32)
            ids = local[inverse].reshape(last - first, n)
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
    keys = PairKeys(engine)
    proto = _PROTOCOL_INDEX[protocol]
    out = np.zeros((keys.n, keys.n), dtype=np.bool_)
    sets = _Sets()
    half_memo: dict[tuple[int, bytes], int] = {}
    for first, last in keys.chunks():
        e_ids, i_ids = _block_sets(keys, keys.keys(first, last), sets, half_memo)
        has = np.array([_contains(s, proto, port) for s in sets.spans], dtype=np.bool_)
        # A pair allows the port iff both of its sets contain it (intersection).
        out[first:last] = (has[e_ids] & has[i_ids]).reshape(last - first, keys.n)
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
