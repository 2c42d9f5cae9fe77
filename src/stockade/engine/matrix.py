"""The connectivity matrix: for every ordered pair of behaviour classes, the connections
allowed, computed without ever evaluating a pair of pods on its own.

With cluster-wide policies a side's rules are *layers*: the Admin tier's rules in order,
the NetworkPolicy rules (when NetworkPolicy isolates the class), the Baseline tier's. A side
is then worked out from its *parts*: per class, the Admin tier's first-match (accepted,
decided) ports, and the NetworkPolicy rules' ports or, when NetworkPolicy does not isolate
it, the Baseline tier's pair. Each part is a sparse side of its own, worked out once per
stack of rules (classes selected by the same cluster policies share one) and shared by every
side that has it; parts are combined with the tier algebra of ``spans`` (first match per
tier, Pass and no match handed down) only where one differs from its default, each distinct
combination once. The cost stays that of the stacks and their distinct rows, not of pairs.

A source class's egress side towards a destination is the union of the ports of the rules
(of the policies isolating it) whose peers match the destination: which rules match is a bit
mask, one vector operation per rule over all destinations. The destination's ingress side
towards the source is the same with its own rules. Classes isolated by the same policies
share these rows, each distinct mask's port set is worked out once (interval arithmetic on
the rules' ports) and numbered, and a pair allows the intersection of its two sets, looked
up by their numbers. The cost follows the number of pairs and rules, not the number of
distinct ports the policies name; rows are computed in chunks, so memory stays bounded.
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeAlias, cast

import msgspec
import numpy as np
import numpy.typing as npt

from stockade.engine import span_arrays
from stockade.engine import spans as span_ops
from stockade.engine.classes import BehaviourClass
from stockade.engine.classset import ClassSet, distinct, sorted_unique
from stockade.engine.compile import CompiledRule
from stockade.engine.engine import EGRESS, INGRESS, Engine
from stockade.engine.ports import PROTOCOLS, PortSpan, format_connections
from stockade.model.types import PolicyType, Protocol, RuleAction, Tier

if TYPE_CHECKING:  # tiers: imported by the engine for cluster-wide policies only
    from stockade.engine.tiers import ClusterPort, CompiledClusterRule

BoolMatrix = npt.NDArray[np.bool_]
_NO_POSITIONS = np.zeros(0, dtype=np.int32)
_NO_VALUES = np.zeros(0, dtype=np.int64)
Keys = npt.NDArray[np.uint64]  # rule masks: bit j = rule j's peers match
CHUNK_CELLS = 2_000_000  # pairs computed at once: bounds memory at any size
MASK_CACHE_BYTES = 256 << 20  # egress rows kept between chunks
SUBSET_SHARE = 4
FEW_TYPES = 64  # ingress types read from their own sides, not from the gathered columns
ROW_CACHE_BYTES = 256 << 20  # matrix rows kept for classes that share them
SELF_CELLS = 256  # single-pod classes whose cells towards themselves are worked out at once
SMALL_MASK_BITS = 16  # sides with at most this many rules number their masks directly
FEW_COMBINATIONS = 16  # combinations of parts looked up one by one, not sorted first
SPANS_CACHE_LISTS = 1 << 18  # egress rules' ports per signature kept (about 700 bytes each)
SMALL_MASK_KEYS = 1 << 20  # a grid over fewer than 1/4 of the classes works out only their cells
# Sides whose rules list at most this many classes in all are decomposed in plain Python:
# at a few classes NumPy's cost per call is most of the work (``PairSets._decomposed``).
FEW_LISTED = 256
BLOCKY_PIECE = 1024  # ingress types of ipBlock peers per piece shared out (``blocky_pieces``)
SCAN_SHARE = 32  # rules listing over 1/32 of the classes: the listed found by a scan, not a sort
FEW_ENTRIES = 1 << 16  # ingress columns of at most this many exceptions sorted at once

# Port sets as sorted, merged (protocol index, first, last) triples.
Spans = span_ops.Spans
ALL: Spans = span_ops.ALL
_PROTOCOL_INDEX = {p: i for i, p in enumerate(PROTOCOLS)}


# The span algebra lives in ``spans``; these names are the matrix's (and its callers').
_merge = span_ops.merge
_intersect = span_ops.intersect
_contains = span_ops.contains


def _text(spans: Spans) -> str:
    return format_connections(PortSpan(PROTOCOLS[p], first, last) for p, first, last in spans)


AnyRule: TypeAlias = "CompiledRule | CompiledClusterRule"


class Layers(msgspec.Struct, frozen=True):
    """A side's rules, in the order masks number them: the Admin tier's, the NetworkPolicy
    rules (``isolated``: NetworkPolicy isolates the class in this direction), the Baseline
    tier's. Without cluster rules a side is the union of its NetworkPolicy rules."""

    admin: tuple[CompiledClusterRule, ...]
    networkpolicy: tuple[CompiledRule, ...]
    isolated: bool
    baseline: tuple[CompiledClusterRule, ...]

    @property
    def rules(self) -> list[AnyRule]:
        return [*self.admin, *self.networkpolicy, *self.baseline]

    @property
    def tiered(self) -> bool:
        return bool(self.admin or self.baseline)

    @property
    def trivial(self) -> bool:
        """Nothing applies: every connection is allowed."""
        return not (self.tiered or self.isolated)


NO_LAYERS = Layers((), (), False, ())
# Numbers the distinct rows of a side: (layers, masks, spans, signatures) -> a number per row.
SideValues = Callable[[Layers, Keys, list[Spans] | None, npt.NDArray[np.int64]], list[int]]


class Side(msgspec.Struct, frozen=True):
    """One side's port-set numbers over every class, stored sparsely: ``values`` at
    ``positions`` (the classes some rule's peers single out), ``default`` elsewhere; when
    ``by_named``, the default depends on the class's named-port signature
    (``default[signature]``), as an egress side's named ports resolve on the destination."""

    default: npt.NDArray[np.int64]
    by_named: bool
    positions: npt.NDArray[np.int32]
    values: npt.NDArray[np.int32]

    def dense(self, named: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The numbers of every class (``named``: each class's signature)."""
        row: npt.NDArray[np.int64] = (self.default[named] if self.by_named
                                      else np.full(len(named), self.default[0],
                                                   dtype=np.int64))
        row[self.positions] = self.values
        return row

    def fill(self, out: npt.NDArray[np.int32], named: npt.NDArray[np.int64]) -> None:
        """``dense`` written into ``out`` (a row of every class, of 32-bit numbers)."""
        if self.by_named:
            out[:] = self.default[named]
        else:
            out.fill(self.default[0])
        out[self.positions] = self.values

    def at(self, classes: npt.NDArray[np.int64],
           named: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The numbers of ``classes`` only."""
        out: npt.NDArray[np.int64] = (self.default[named[classes]] if self.by_named
                                      else np.full(len(classes), self.default[0],
                                                   dtype=np.int64))
        if len(self.positions):
            where = np.searchsorted(self.positions, classes)
            where = np.minimum(where, len(self.positions) - 1)
            hit = self.positions[where] == classes
            out[hit] = self.values[where[hit]]
        return out


class _Rows(msgspec.Struct, frozen=True):
    """A side's rules' matches, decomposed (``PairSets._decomposed``): the classes some rule
    singles out (``positions``), the distinct (mask, signature) rows to number (``masks``,
    ``signatures``: the signature standing for each row's group), each position's row and
    the default row's, last (``inverse``); when ``by_named``, the ``n_sig`` rows last in
    ``masks`` are the default row towards each group, ``projected`` a group per signature
    of the cluster and ``projected_rows`` the group of each position (and the default)."""

    positions: npt.NDArray[np.int32]
    masks: Keys
    signatures: npt.NDArray[np.int64]
    inverse: npt.NDArray[np.int64]
    projected_rows: npt.NDArray[np.int64]
    projected: npt.NDArray[np.int64]
    n_sig: int
    by_named: bool


class EgressWork(msgspec.Struct, frozen=True):
    """What ``PairSets.main_egress_sides`` worked out, for ``adopt_egress_sides``: the port
    sets and tier pairs it numbered, the main variant's egress side of each type, and the
    part sides of tiered egress sides that reads in the other variants take (by key)."""

    sets: list[Spans]
    pairs: list[tuple[int, int]]
    sides: list[Side]
    parts: dict[tuple[object, ...], Side]
    # The pieces of ``PairSets.blocky_pieces`` it took: their port set numbers.
    blocky: dict[int, npt.NDArray[np.int32]] = msgspec.field(default_factory=dict)


class _PartRules(msgspec.Struct, frozen=True):
    """The rules of one part of tiered sides (a tier's stack, or the NetworkPolicy rules
    that isolate a side), as ``PairSets._part_side`` keys them: their identities, the
    layers their sides are worked out with, whether some name a port (the bits of those),
    the bits of the rules of any port, whether some have address peers."""

    rules: tuple[AnyRule, ...]
    ids: tuple[int, ...]
    layers: Layers
    named: bool
    named_bits: int
    any_port_bits: int
    blocky: bool


def _cluster_port_spans(port: ClusterPort,
                        cls: BehaviourClass | None) -> list[tuple[int, int, int]]:
    """A cluster rule's port entry towards a destination class: a named port is the class's
    container port of that name, whatever its protocol (towards no pod: nothing)."""
    if port.never:
        return []
    if port.name:
        if cls is None:
            return []
        return [(_PROTOCOL_INDEX[proto], number, number)
                for proto, name, number in cls.named_ports if name == port.name][:1]
    assert port.protocol is not None
    return [(_PROTOCOL_INDEX[port.protocol], port.first, port.last)]


TierPair = tuple[Spans, Spans]  # a tier's first-match (accepted, decided) ports


def set_bits(mask: Keys) -> list[int]:
    """The positions of the set bits of a row of rule masks, ascending."""
    return words_bits(mask.tolist())  # Python ints: numpy scalars are slow here


def words_bits(words: Sequence[int]) -> list[int]:
    """``set_bits`` of a row of rule masks given as Python integers (64 bits each)."""
    out: list[int] = []
    for w, word in enumerate(words):
        value = word
        while value:
            low = value & -value
            out.append(w * 64 + low.bit_length() - 1)
            value ^= low
    return out


def group_rows(columns: Sequence[npt.NDArray[np.int32]],
               n_rows: int) -> tuple[npt.NDArray[np.int64], list[int]]:
    """The rows of a table given by its ``columns`` (none: every row alike) grouped: each
    row's group, groups numbered in the rows' ascending order, and each group's first row,
    as ``np.unique(table, axis=0)`` gives them; at a few rows by Python tuples (NumPy's cost
    per call would be most of the work)."""
    if n_rows > FEW_LISTED:
        table = (np.stack(columns, axis=1) if columns
                 else np.zeros((n_rows, 1), dtype=np.int32))
        _, first, which = np.unique(table, axis=0, return_index=True, return_inverse=True)
        return which.ravel().astype(np.int64), first.tolist()
    rows: list[tuple[int, ...]] = (list(zip(*[c.tolist() for c in columns], strict=True))
                                   if columns else [()] * n_rows)
    firsts: dict[tuple[int, ...], int] = {}
    for r, row in enumerate(rows):
        firsts.setdefault(row, r)
    ordered = sorted(firsts)
    number = {row: k for k, row in enumerate(ordered)}
    return (np.array([number[row] for row in rows], dtype=np.int64),
            [firsts[row] for row in ordered])


@functools.lru_cache(maxsize=1 << 16)
def _first_match(matching: tuple[tuple[RuleAction, Spans], ...]) -> TierPair:
    """``spans.first_match``, memoised: lint asks ``side_set`` about the same tier's rules
    once per rule it removes from the other tiers."""
    return span_ops.first_match(matching)


def difference(a: Spans, b: Spans) -> Spans:
    """The ports of ``a`` that ``b`` lacks (what a connection set gained or lost)."""
    out: list[tuple[int, int, int]] = []
    for proto, first, last in a:
        pieces = [(first, last)]
        for other, lo, hi in b:
            if other != proto:
                continue
            pieces = [piece for f, la in pieces for piece in (
                ((f, la),) if hi < f or lo > la else
                tuple(p for p in ((f, lo - 1), (hi + 1, la)) if p[0] <= p[1]))]
        out.extend((proto, f, la) for f, la in pieces)
    return _merge(out)


def spans_text(spans: Spans) -> str:
    """The canonical text of a port set: ``all``, ``none``, ``TCP 80, UDP 53``."""
    return _text(spans)


def spans_allow(spans: Spans, protocol: Protocol, port: int) -> bool:
    return _contains(spans, _PROTOCOL_INDEX[protocol], port)


def span_protocol(spans_entry: tuple[int, int, int]) -> Protocol:
    return PROTOCOLS[spans_entry[0]]


def _cut_after_last_word(masks: Keys, last_word: int) -> None:
    """Clear, in each row of ``masks``, the bits after its first bit of ``last_word``: rows
    that differ only in rules a matching rule of any port leaves nothing to decide read
    alike (a tier's first match is over once every port is covered)."""
    done = np.zeros(len(masks), dtype=np.bool_)
    one = np.uint64(1)
    for w in range(masks.shape[1]):
        word = masks[:, w]
        word[done] = 0
        hit = word & np.uint64((last_word >> (64 * w)) & ((1 << 64) - 1))
        low = hit & (~hit + one)  # the lowest bit of a rule of any port, or 0
        # Up to and including that bit (bit 63: every bit, as the shift wraps to 0).
        word &= np.where(low != 0, (low << one) - one, ~np.uint64(0))
        done |= low != 0


def _union_positions(a: npt.NDArray[np.int32],
                     b: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """The classes in either of two sorted lists of positions, sorted."""
    if not len(a):
        return b
    if not len(b):
        return a
    return sorted_unique(np.concatenate([a, b]))


_EMPTY_SIDE = Side(np.zeros(1, dtype=np.int64), False, _NO_POSITIONS,
                   np.zeros(0, dtype=np.int32))


READING_BYTES = 64 << 20  # peer memberships and part numbers a reading keeps


class _Reading:
    """Sides read at the same classes (a few destinations, or the sources of a variant):
    each rule's peers looked up there and each part side's numbers read there once for
    every side read there, up to ``READING_BYTES`` (then forgotten and looked up again)."""

    def __init__(self, keys: PairSets, classes: npt.NDArray[np.int64], variant: int) -> None:
        self.keys = keys
        self.classes = classes
        self.variant = variant
        self._members: dict[int, tuple[AnyRule, npt.NDArray[np.bool_]]] = {}
        self._sides: dict[int, tuple[Side, npt.NDArray[np.int64]]] = {}
        self._parts: dict[tuple[object, ...], npt.NDArray[np.int64]] = {}
        self._bytes = 0

    def _kept(self, size: int) -> None:
        self._bytes += size
        if self._bytes > READING_BYTES:
            self._members.clear()
            self._sides.clear()
            self._parts.clear()
            self._bytes = size

    def member(self, rule: AnyRule) -> npt.NDArray[np.bool_]:
        """Whether the rule's peers match each class (in this reading's variant); kept by
        the rule (a rule's peer set may be made anew on each call)."""
        found = self._members.get(id(rule))
        if found is None or found[0] is not rule:
            hits = rule.peer_classes(self.variant).at(self.classes)
            self._kept(hits.nbytes)
            found = self._members[id(rule)] = (rule, hits)
        return found[1]

    def part(self, key: tuple[object, ...],
             work_out: Callable[[], npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
        """The numbers of a part that several sides share (NetworkPolicy rules read here,
        by their identities and ports), worked out once."""
        found = self._parts.get(key)
        if found is None:
            found = work_out()
            self._kept(found.nbytes)
            self._parts[key] = found
        return found

    def side(self, side: Side) -> npt.NDArray[np.int64]:
        """A kept side's numbers at the classes."""
        found = self._sides.get(id(side))
        if found is None or found[0] is not side:
            values = side.at(self.classes, self.keys.named)
            self._kept(values.nbytes)
            found = self._sides[id(side)] = (side, values)
        return found[1]


class PairSets:
    """For one engine: the numbered port sets that sources may open (egress) and that
    destinations accept (ingress), per pair of classes, in chunks of source classes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        classes = engine.classes
        self.n = n = len(classes)
        # Egress types: classes with the same cluster-policy stacks and isolated for egress
        # by the same policies share one.
        e_types: dict[tuple[object, ...], int] = {self._layers_key(-1, EGRESS): 0}
        e_type = [0] * n
        self.e_layers: list[Layers] = [NO_LAYERS]
        self.e_class: list[int] = [-1]  # a class of each type (its stacks stand for all)
        for cls, key in zip(classes, self._layers_keys(EGRESS), strict=True):
            if key not in e_types:
                e_types[key] = len(e_types)
                self.e_layers.append(self._layers(cls.index, EGRESS))
                self.e_class.append(cls.index)
            e_type[cls.index] = e_types[key]
        self.e_type = np.array(e_type, dtype=np.int64)
        self.e_rules = [layers.rules for layers in self.e_layers]
        # Destinations with the same named ports resolve every egress rule alike.
        signatures: dict[object, int] = {}
        named = [0] * n
        self.named_rep: list[int] = []
        for cls in classes:
            sig = signatures.setdefault(cls.named_ports, len(signatures))
            if sig == len(self.named_rep):
                self.named_rep.append(cls.index)
            named[cls.index] = sig
        self.named = np.array(named, dtype=np.int64)
        # Ingress types: the same, and the same ports once named ports are resolved on the
        # class (the destination): classes with the same rules and named ports resolve them
        # alike, so a type's rules and ports are worked out once per such pair.
        i_types: dict[tuple[object, ...], int] = {(): 0}
        i_type = [0] * n
        self.i_layers: list[Layers] = [NO_LAYERS]
        self.i_class: list[int] = [-1]
        self.i_spans: list[list[Spans]] = [[]]
        alike: dict[tuple[object, ...], tuple[Layers, dict[int, tuple[tuple[object, ...],
                                                                       list[Spans]]]]] = {}
        # A cluster rule's ports on a class, kept by the rule and the class's named-port
        # signature (one entry for a rule that names no port): types share tiers' stacks
        # of many rules.
        ports_at: dict[tuple[int, int], Spans] = {}
        plain: dict[int, bool] = {}  # rule -> names no port

        def ports_of(rule: CompiledClusterRule, cls: int, signature: int) -> Spans:
            unnamed = plain.get(id(rule))
            if unnamed is None:
                unnamed = plain[id(rule)] = not rule.named
            key = (id(rule), -1 if unnamed else signature)
            found = ports_at.get(key)
            if found is None:
                found = ports_at[key] = self.rule_spans(rule, cls)
            return found

        for cls, layers_key in zip(classes, self._layers_keys(INGRESS), strict=True):
            entry = alike.get(layers_key)
            if entry is None:
                entry = alike[layers_key] = (self._layers(cls.index, INGRESS), {})
            layers, by_signature = entry
            if layers.trivial:
                continue
            signature = named[cls.index]
            found = by_signature.get(signature)
            if found is None:
                spans = [self.rule_spans(rule, cls.index) for rule in layers.networkpolicy]
                if layers.tiered:  # in the order of ``layers.rules``
                    spans = [*(ports_of(rule, cls.index, signature) for rule in layers.admin),
                             *spans,
                             *(ports_of(rule, cls.index, signature)
                               for rule in layers.baseline)]
                found = by_signature[signature] = ((layers_key, tuple(spans)), spans)
            i_key, spans = found
            if i_key not in i_types:
                i_types[i_key] = len(i_types)
                self.i_layers.append(layers)
                self.i_class.append(cls.index)
                self.i_spans.append(spans)
            i_type[cls.index] = i_types[i_key]
        self.i_type = np.array(i_type, dtype=np.int64)
        self.i_rules = [layers.rules for layers in self.i_layers]
        self.i_type32 = self.i_type.astype(np.int32)
        # Only egress types with named-port rules care which named ports a destination has.
        self.e_named = np.array([any(r.named for r in rules) for rules in self.e_rules],
                                dtype=np.int64)
        self.e_blocks = [any(r.block_members for r in rules) for rules in self.e_rules]
        self.i_blocks = [any(r.block_members for r in rules) for rules in self.i_rules]
        self.i_block_types = [t for t, blocky in enumerate(self.i_blocks) if blocky]
        self.i_block_index = np.full(len(self.i_rules), -1, dtype=np.int64)
        self.i_block_index[self.i_block_types] = np.arange(len(self.i_block_types))
        self.e_words = max(1, (max(map(len, self.e_rules)) + 63) // 64)
        self.i_words = max(1, (max(map(len, self.i_rules)) + 63) // 64)
        self.primary = np.array([c.primary_family for c in classes], dtype=np.int64)
        self.secondary = np.array([c.secondary_family for c in classes], dtype=np.int64)
        self.has = {f: np.array([c.regions[i] >= 0 for c in classes], dtype=np.bool_)
                    for i, f in enumerate((4, 6))}
        blocks = {f for cp in engine.compiled for rs in cp.rules.values() for r in rs
                  for f in r.block_members}
        if engine.cluster_policies:
            blocks |= {f for ccp in engine.tiers.compiled for rs in ccp.rules.values()
                       for r in rs for f in r.block_members}
        self.variants = [*sorted(blocks), 0]  # families whose ipBlocks differ, then none
        self.sets: list[Spans] = [ALL]
        self._set_ids: dict[Spans, int] = {ALL: 0}
        self._e_ids: dict[tuple[int, int], npt.NDArray[np.int64]] = {}
        self._zeros64 = np.zeros(n, dtype=np.int64)
        self._scratch = np.zeros(n, dtype=np.uint64)
        self._sides: dict[tuple[PolicyType, int, int], Side] = {}
        self._side_bytes = 0
        self._columns: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                       npt.NDArray[np.int32], npt.NDArray[np.int32]]] = {}
        # An egress side's rules' ports per named-port signature, for the sides used last
        # only (``SPANS_CACHE_LISTS`` lists): kept for all, every type times every signature.
        self._spans_for: OrderedDict[int, dict[int, list[Spans]]] = OrderedDict()
        self._spans_kept = 0
        self._fixed: dict[int, list[Spans | None]] = {}
        self._projections: dict[tuple[tuple[Protocol, str], ...],
                                tuple[npt.NDArray[np.int64], list[int]]] = {}
        self._named_columns: dict[tuple[Protocol, str], npt.NDArray[np.int32]] = {}
        self._numbered: dict[int, tuple[list[Spans], list[int]]] = {}
        self._unions: dict[frozenset[int], int] = {}
        # Tiered sides by parts (``_tiered_side``): a tier's rule lists numbered, its
        # first-match pair per (list, bits), the part sides, their combinations.
        self._rule_lists: dict[tuple[tuple[RuleAction, Spans], ...], int] = {}
        self._listed: list[tuple[tuple[RuleAction, Spans], ...]] = []
        self._part_ids: dict[tuple[int, int], int] = {}
        self._part_sides: dict[tuple[object, ...], Side] = {}
        # Combinations of parts' numbers packed into one: the Baseline's, NetworkPolicy's.
        self._combinations: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self._part_layers: dict[tuple[object, ...], Layers] = {}
        self._part_rules_of: dict[int, _PartRules] = {}
        self._part_rows: dict[tuple[object, ...], _Rows] = {}
        self._admin_values: dict[int, tuple[Side, npt.NDArray[np.int64],
                                            npt.NDArray[np.int64]]] = {}
        # An Admin part combined with a second part's default (``_over_admin``): the part,
        # the default, the positions and numbers where they differ from it.
        self._admin_bases: dict[tuple[int, int, bool, bool],
                                tuple[Side, npt.NDArray[np.int64], npt.NDArray[np.int32],
                                      npt.NDArray[np.int32]]] = {}
        self._reading: _Reading | None = None
        self._some: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]] = {}
        self._blocky: dict[int, npt.NDArray[np.int32]] = {}  # ``blocky_pieces``' numbers
        self._variant_users()
        # The ingress types whose rules have ipBlock peers (what they accept from a source
        # depends on the variant its pairs are in), and ``blocky_pieces``.
        self._block_types = np.array([t for t in self.i_block_types if t], dtype=np.int64)
        self._pieces = [(variant, start, min(len(self._block_types), start + BLOCKY_PIECE))
                        for variant in sorted(self.variant_users)
                        if variant != self.main_variant
                        for start in range(0, len(self._block_types), BLOCKY_PIECE)]
        self.pairs: list[tuple[int, int]] = []  # (accepted, decided) set numbers of a tier
        self._pair_ids: dict[tuple[int, int], int] = {}
        self._no_pair = self.pair_id(self.set_id(()), self.set_id(()))

    def _variant_users(self) -> None:
        """Which sources have pairs in each variant, and the variant most pairs are in:
        worked out per kind of source (its primary and other family) over every
        destination, and kept (``_kind_rows``: a kind's variant towards each destination,
        one byte each; ``_kind_of``: each class's kind). Only the main variant's ingress
        columns are worked out for every source; another's for the sources that have pairs
        in it."""
        profile = self.primary * 8 + self.secondary
        kinds, first, which = np.unique(profile, return_index=True, return_inverse=True)
        self._kind_of = which.ravel().astype(np.int64)
        self._kind_rows = np.zeros((len(kinds), self.n), dtype=np.int8)
        self._kind_counts = np.zeros((len(kinds), 8), dtype=np.int64)
        pairs = np.zeros(8, dtype=np.int64)
        users = np.zeros((len(kinds), 8), dtype=np.bool_)
        for k, rep in enumerate(first):
            fam = self.families(int(rep), np.arange(self.n))
            variant = np.where(np.isin(fam, [v for v in self.variants if v]), fam, 0)
            self._kind_rows[k] = variant
            counts = self._kind_counts[k] = np.bincount(variant, minlength=8)
            users[k] = counts > 0
            pairs += counts * int(np.count_nonzero(which == k))
        self.main_variant = int(np.argmax(pairs)) if len(kinds) else 0
        self.variant_users = {v: users[which.ravel(), v] for v in range(8) if users[:, v].any()}

    def _layers_key(self, cls: int, direction: PolicyType) -> tuple[object, ...]:
        """What makes two classes' sides alike: their stacks and isolating policies."""
        if cls < 0:
            return (0, (), 0)
        tiers = self.engine.tiers
        return (int(tiers.stack_of[Tier.ADMIN, direction][cls]),
                tuple(self.engine.isolating[direction][cls]),
                int(tiers.stack_of[Tier.BASELINE, direction][cls]))

    def _layers_keys(self, direction: PolicyType) -> list[tuple[object, ...]]:
        """``_layers_key`` of every class, in class order."""
        if not self.engine.cluster_policies:  # no tiers: every class's stacks are number 0
            return [(0, key, 0) for key in map(tuple, self.engine.isolating[direction])]
        tiers = self.engine.tiers
        return list(zip(tiers.stack_of[Tier.ADMIN, direction].tolist(),
                        map(tuple, self.engine.isolating[direction]),
                        tiers.stack_of[Tier.BASELINE, direction].tolist(), strict=True))

    def _layers(self, cls: int, direction: PolicyType) -> Layers:
        isolating = self.engine.isolating[direction][cls]
        return Layers(
            self._stack(Tier.ADMIN, direction, cls),
            tuple(r for i in isolating for r in self.engine.compiled[i].rules[direction]),
            bool(isolating),
            self._stack(Tier.BASELINE, direction, cls),
        )

    def _stack(self, tier: Tier, direction: PolicyType,
               cls: int) -> tuple[CompiledClusterRule, ...]:
        """A class's rules in a tier: none without cluster-wide policies (no tiers)."""
        if not self.engine.cluster_policies:
            return ()
        return self.engine.tiers.stack(tier, direction, cls)

    def rule_spans(self, rule: AnyRule, destination: int | None) -> Spans:
        """The ports a rule allows towards a destination class (named ports resolved), or
        towards an address that is no pod's (``None``: named ports match nothing)."""
        if rule.any_port:
            return ALL
        cls = None if destination is None else self.engine.classes[destination]
        if not isinstance(rule, CompiledRule):  # a cluster-wide policy's
            return _merge([s for port in rule.ports for s in _cluster_port_spans(port, cls)])
        spans = []
        for port in rule.ports:
            proto = _PROTOCOL_INDEX[port.protocol]
            if not port.name:
                spans.append((proto, port.first, port.last))
                continue
            number = None if cls is None else cls.named_port(port.protocol, port.name)
            if number is not None:
                spans.append((proto, number, number))
        return _merge(spans)

    # --- keys ------------------------------------------------------------------------------

    def pair_family(self, src: npt.NDArray[np.int64],
                    dst: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
        """The family of each (source, destination) pair, ``(len(src), len(dst))``;
        destinations ``dst`` default to every class."""
        columns = np.arange(self.n) if dst is None else dst
        return self.families(src[:, None], columns[None, :])

    def _pair_variants(self, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64] | None
                       ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64],
                                  npt.NDArray[np.int64]]:
        """The variants of the pairs of ``src`` x ``dst`` by kind of source (its families):
        ``rows[k][j]`` the variant of a source of the ``k``-th kind present towards
        ``dst[j]`` (its family when that family's address peers differ, else 0), ``which``
        each source's kind among them, and how many pairs each variant has. A source's
        variants depend on its kind only: its rows are read from those kept, not worked
        out pair by pair."""
        present, which = np.unique(self._kind_of[src], return_inverse=True)
        which = which.ravel()
        rows = self._kind_rows[present]
        if dst is None:
            per_kind = self._kind_counts[present]
        else:
            rows = rows[:, dst]
            per_kind = np.stack([np.bincount(row, minlength=8) for row in rows.view(np.uint8)])
        counts = np.bincount(which, minlength=len(present)) @ per_kind
        return rows, which, counts

    def families(self, src: npt.NDArray[np.int64] | int,
                 dst: npt.NDArray[np.int64] | int) -> npt.NDArray[np.int64]:
        """The family of the connections between classes ``src`` and ``dst`` (broadcast),
        as ``Engine._family`` picks it: the source's primary family if the destination has
        it, else the source's other family if the destination has that, else the source's
        primary, else the destination's primary."""
        first, second = self.primary[src], self.secondary[src]

        def dst_has(family: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
            has: npt.NDArray[np.bool_] = (((family == 4) & self.has[4][dst])
                                          | ((family == 6) & self.has[6][dst]))
            return has

        fallback = np.where(first != 0, first, self.primary[dst])
        return np.where(dst_has(first), first,
                        np.where(dst_has(second), second, fallback)).astype(np.int64)

    @staticmethod
    def _masks(rules: Sequence[AnyRule], variant: int,
               rows: slice | npt.NDArray[np.int64], size: int,
               words: int) -> Keys:
        """Bit j of a row: rule j's peers match that class (``(size, words)``)."""
        out = np.zeros((size, words), dtype=np.uint64)
        for j, rule in enumerate(rules):
            classes = rule.peer_classes(variant)
            word, bit = j // 64, np.uint64(1) << np.uint64(j % 64)
            if not isinstance(rows, slice):
                out[:, word] |= classes.at(rows).astype(np.uint64) << np.uint64(j % 64)
            elif classes.inverted:  # every class but a few
                out[:, word] |= bit
                out[classes.indices, word] &= ~bit
            else:
                out[classes.indices, word] |= bit
        return out

    # --- port sets, numbered ----------------------------------------------------------------

    def set_id(self, spans: Spans) -> int:
        """The number of a port set (numbers are given as sets turn up; 0 is ``ALL``)."""
        found = self._set_ids.get(spans)
        if found is None:
            found = self._set_ids[spans] = len(self.sets)
            self.sets.append(spans)
        return found

    @staticmethod
    def _distinct(rows: Keys) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Distinct rows of a small 2-D array: (first index of each, each row's distinct)."""
        if rows.shape[1] == 1:
            _, first, inverse = np.unique(rows[:, 0], return_index=True, return_inverse=True)
            return first, inverse.ravel()
        n = len(rows)
        if not n:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # In the order and with the numbers ``np.unique`` gives the rows viewed as bytes
        # (each word's bytes in memory order, the lowest first on a little-endian machine),
        # which sorts them several times slower: a stable sort by each word, bytes swapped.
        words = rows.byteswap() if np.little_endian else rows
        order = np.lexsort(words.T[::-1])
        ordered = rows[order]
        starts = np.empty(n, dtype=np.bool_)
        starts[0] = True
        np.any(ordered[1:] != ordered[:-1], axis=1, out=starts[1:])
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.cumsum(starts) - 1
        return order[starts].astype(np.int64), inverse

    def egress_ids(self, variant: int, e_type: int,
                   dst: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
        """Per destination class (or per class of ``dst``), the number of the port set a
        source of this egress type may open to it: what its rules whose peers match the
        destination allow (the tiers in order, or their union)."""
        key = (EGRESS, variant if self.e_blocks[e_type] else 0, e_type)
        if dst is not None and key not in self._sides and len(dst) * SUBSET_SHARE < self.n:
            # A few destinations (a family that few pairs have): only theirs, read through
            # one reading while the destinations stay the same (the types of a grid).
            reading = self._reading
            if (reading is None or reading.variant != variant
                    or not np.array_equal(reading.classes, dst)):
                reading = self._reading = _Reading(self, dst, variant)
            return self._read_side(self.e_layers[e_type], key[1], None,
                                   bool(self.e_named[e_type]), reading)
        side = self.egress_side(variant, e_type)
        return side.dense(self.named) if dst is None else side.at(dst, self.named)

    def egress_side(self, variant: int, e_type: int) -> Side:
        # Without address peers a type's rules match alike whatever the address family.
        key = (EGRESS, variant if self.e_blocks[e_type] else 0, e_type)
        found = self._sides.get(key)
        if found is None:
            found = self._side(self.e_layers[e_type], key[1], None,
                               bool(self.e_named[e_type]))
            self._keep_egress(key, found)
        return found

    def _keep_egress(self, key: tuple[PolicyType, int, int], side: Side) -> None:
        if self._side_bytes > MASK_CACHE_BYTES:
            self._sides = {k: v for k, v in self._sides.items() if k[0] is INGRESS}
            self._side_bytes = 0
        self._sides[key] = side
        self._side_bytes += side.positions.nbytes + side.values.nbytes

    def main_egress_sides(self, take: Callable[[], int | None] | None = None) -> EgressWork:
        """Every egress type's side in the main variant (as ``row_types`` needs them), the
        parts of tiered egress sides that reads in the other variants take (``_tiered_at``:
        the rows of those variants' sources read them), and the port sets and tier pairs
        numbered so far: what ``adopt_egress_sides`` takes, so that another process can
        work them out meanwhile. Then the pieces of ``blocky_pieces`` that ``take`` gives
        (shared with the other process: whichever is free takes the next)."""
        sides = [self.egress_side(self.main_variant, t) for t in range(len(self.e_layers))]
        parts: dict[tuple[object, ...], Side] = {}
        blocky: dict[int, npt.NDArray[np.int32]] = {}
        for variant in self.variant_users:
            if variant == self.main_variant:
                continue
            for t, layers in enumerate(self.e_layers):
                if layers.tiered:
                    for key in self._egress_parts(layers, variant if self.e_blocks[t] else 0):
                        parts[key] = self._part_sides[key]
        pieces = self.blocky_pieces()
        while take is not None and (piece := take()) is not None:
            blocky[piece] = self._blocky_piece(*pieces[piece])
        return EgressWork(list(self.sets), list(self.pairs), sides, parts, blocky)

    def adopt_egress_sides(self, work: EgressWork) -> None:
        """Take ``main_egress_sides`` made by another process on a copy of this one: its
        set and pair numbers are renumbered as this one numbers them (the pieces' columns
        taken out of ``work`` as they are)."""
        renumber = np.array([self.set_id(spans) for spans in work.sets], dtype=np.int64)
        paired = np.array([self.pair_id(int(renumber[accepted]), int(renumber[decided]))
                           for accepted, decided in work.pairs], dtype=np.int64)
        for t, side in enumerate(work.sides):
            key = (EGRESS, self.main_variant if self.e_blocks[t] else 0, t)
            if key not in self._sides:
                self._keep_egress(key, Side(renumber[side.default], side.by_named,
                                            side.positions,
                                            renumber[side.values].astype(np.int32)))
        for part_key, side in work.parts.items():
            if part_key not in self._part_sides:  # a tier's part numbers pairs, else sets
                table = paired if part_key[0] else renumber
                self._part_sides[part_key] = Side(table[side.default], side.by_named,
                                                  side.positions,
                                                  table[side.values].astype(np.int32))
        numbers = renumber.astype(np.int32)
        while work.blocky:  # each piece's columns let go of as they are renumbered
            piece, columns = work.blocky.popitem()
            self._blocky[piece] = numbers[columns]

    def ingress_side(self, variant: int, i_type: int) -> Side:
        key = (INGRESS, variant if self.i_blocks[i_type] else 0, i_type)
        found = self._sides.get(key)
        if found is None:
            found = self._sides[key] = self._side(self.i_layers[i_type], key[1],
                                                  self.i_spans[i_type], False)
        return found

    def _side(self, layers: Layers, variant: int, spans: list[Spans] | None,
              by_named: bool) -> Side:
        """The sparse numbers of a side (``_rule_side``; with cluster rules, its tiers'
        parts combined: ``_tiered_side``). ``spans``: the rules' ports (ingress: resolved on
        the side's own class); None for egress, whose named ports resolve on each
        destination (``by_named``: they do)."""
        if layers.trivial:
            return _EMPTY_SIDE
        if layers.tiered:
            return self._tiered_side(layers, variant, spans, by_named)
        return self._rule_side(layers, variant, spans, by_named, self._side_values)

    def _rule_side(self, layers: Layers, variant: int, spans: list[Spans] | None,
                   by_named: bool, side_values: SideValues) -> Side:
        """The sparse numbers of a side: its rules' matches (``_decomposed``), each distinct
        row numbered by ``side_values``."""
        return self._side_of_rows(self._decomposed(layers, variant, by_named), layers, spans,
                                  side_values)

    def _decomposed(self, layers: Layers, variant: int, by_named: bool,
                    last_word: int = 0) -> _Rows:
        """A side's rules' matches over every class, worked out only where some rule's
        peers single a class out (its members, or the exceptions of a rule that matches
        nearly everything); elsewhere every class matches the same rules (the default
        row). Distinct rows, with the named-port signature when named ports matter.
        ``last_word``: the bits of rules that have the last word on every port (a tier's
        rules of any port): the bits after the first of them in a row are cleared."""
        rules = layers.rules
        sets = [rule.peer_classes(variant) for rule in rules]
        projected, reps = (self._named_projection(layers) if by_named
                           else (np.zeros(1, dtype=np.int64), [0]))
        if (len(rules) <= SMALL_MASK_BITS and (len(reps) << len(rules)) <= SMALL_MASK_KEYS
                and sum(len(c.indices) for c in sets) <= FEW_LISTED):
            return self._decomposed_few(sets, projected, reps, by_named, last_word)
        return self._decomposed_many(sets, projected, reps, by_named, last_word)

    def _decomposed_many(self, sets: list[ClassSet], projected: npt.NDArray[np.int64],
                         reps: list[int], by_named: bool, last_word: int) -> _Rows:
        """``_decomposed`` with vector operations (``sets``: each rule's peer classes;
        ``projected``, ``reps``: the side's ``_named_projection``)."""
        words = max(1, (len(sets) + 63) // 64)
        if words == 1:
            # Each rule's listed classes scattered into one scratch row over all classes:
            # no search, work in proportion to what the rules list.
            scratch = self._scratch
            default = np.uint64(0)
            for j, classes in enumerate(sets):
                bit = np.uint64(1) << np.uint64(j)
                scratch[classes.indices] |= bit
                if classes.inverted:  # listed are the exceptions: flip to members
                    default |= bit
            # The classes listed: those with a bit, when a scan of the row costs less than
            # sorting what the rules list (a few thousand classes, from a few to 50,000).
            listed = sum(len(c.indices) for c in sets)
            positions = (np.flatnonzero(scratch != 0).astype(np.int32)
                         if listed * SCAN_SHARE > self.n
                         else sorted_unique(np.concatenate([c.indices for c in sets])) if sets
                         else _NO_POSITIONS)
            masks = np.zeros((len(positions) + 1, words), dtype=np.uint64)  # last: default
            masks[-1, 0] = default
            masks[:-1, 0] = scratch[positions] ^ default
            scratch[positions] = 0
        else:
            positions = sorted_unique(np.concatenate([c.indices for c in sets]))
            masks = np.zeros((len(positions) + 1, words), dtype=np.uint64)
            for j, classes in enumerate(sets):
                shift = np.uint64(j % 64)
                hit = classes.at(positions).astype(np.uint64)
                masks[:-1, j // 64] |= hit << shift
                if classes.inverted:
                    masks[-1, j // 64] |= np.uint64(1) << shift
        if last_word:
            _cut_after_last_word(masks, last_word)
        # Signatures as these rules see them: destinations whose numbers for the rules'
        # named ports agree are alike here, however their other named ports differ.
        signatures = (projected[np.append(self.named[positions], 0)] if by_named
                      else np.zeros(len(positions) + 1, dtype=np.int64))
        n_sig = len(reps)
        rep_of = np.array(reps, dtype=np.int64)
        if len(sets) <= SMALL_MASK_BITS and (n_sig << len(sets)) <= SMALL_MASK_KEYS:
            # Few rules: each (mask, signature) is a small number; count, no sort.
            keys = masks[:, 0].astype(np.int64) * n_sig + signatures
            present = np.flatnonzero(np.bincount(keys))
            index = np.zeros(int(present[-1]) + 1, dtype=np.int64)
            index[present] = np.arange(len(present))
            mask_of, sig_of = np.divmod(present, n_sig)
            rows, row_sigs = mask_of.astype(np.uint64)[:, None], rep_of[sig_of]
            inverse = index[keys]
        else:
            first, inverse = self._distinct(np.concatenate(
                [masks, signatures.astype(np.uint64)[:, None]], axis=1))
            rows, row_sigs = masks[first], rep_of[signatures[first]]
        if by_named:  # and the default row towards each signature, last
            rows = np.concatenate([rows, np.repeat(masks[-1:], n_sig, axis=0)])
            row_sigs = np.concatenate([row_sigs, rep_of])
        return _Rows(positions, rows, row_sigs, inverse, signatures, projected, n_sig, by_named)

    def _decomposed_few(self, sets: list[ClassSet], projected: npt.NDArray[np.int64],
                        reps: list[int], by_named: bool, last_word: int) -> _Rows:
        """``_decomposed_many`` of few rules (at most ``SMALL_MASK_BITS``: one word) that
        list few classes, with Python integers and dicts: the same rows, in the same
        order, without NumPy's cost per call that dominates there."""
        listed: dict[int, int] = {}
        default = 0
        for j, classes in enumerate(sets):
            bit = 1 << j
            if classes.inverted:  # listed are the exceptions: flip to members
                default |= bit
            for c in classes.indices.tolist():
                listed[c] = listed.get(c, 0) | bit
        order = sorted(listed)
        masks = [listed[c] ^ default for c in order]
        masks.append(default)
        if last_word:  # the bits after the first of a rule of any port, cleared
            for k, mask in enumerate(masks):
                hit = mask & last_word
                if hit:
                    masks[k] = mask & (((hit & -hit) << 1) - 1)
        positions = np.array(order, dtype=np.int32)
        n_sig = len(reps)
        if by_named:
            signatures = projected[np.append(self.named[positions], 0)]
            keys = [mask * n_sig + sig for mask, sig in zip(masks, signatures.tolist(),
                                                            strict=True)]
        else:
            signatures = np.zeros(len(order) + 1, dtype=np.int64)
            keys = masks
        present = sorted(set(keys))
        index = {key: k for k, key in enumerate(present)}
        row_masks = [key // n_sig for key in present]
        row_sigs = [reps[key % n_sig] for key in present]
        if by_named:  # and the default row towards each signature, last
            row_masks += [masks[-1]] * n_sig
            row_sigs += reps
        return _Rows(positions, np.array(row_masks, dtype=np.uint64).reshape(-1, 1),
                     np.array(row_sigs, dtype=np.int64),
                     np.array([index[key] for key in keys], dtype=np.int64),
                     signatures, projected, n_sig, by_named)

    @staticmethod
    def _side_of_rows(rows: _Rows, layers: Layers, spans: list[Spans] | None,
                      side_values: SideValues) -> Side:
        """A side from its decomposed rows, each numbered by ``side_values``."""
        numbers = side_values(layers, rows.masks, spans, rows.signatures)
        if len(rows.inverse) <= FEW_LISTED:
            return PairSets._few_side_of_rows(rows, numbers)
        local = np.array(numbers, dtype=np.int64)
        values = local[rows.inverse]
        if rows.by_named:
            per_sig = local[-rows.n_sig:]
            keep = values[:-1] != per_sig[rows.projected_rows[:-1]]
            default = per_sig[rows.projected]  # per signature of the whole cluster
        else:
            default = values[-1:]
            keep = values[:-1] != default[0]
        return Side(default, rows.by_named, rows.positions[keep],
                    values[:-1][keep].astype(np.int32))

    @staticmethod
    def _few_side_of_rows(rows: _Rows, numbers: list[int]) -> Side:
        """``_side_of_rows`` of few positions, with Python lists (``numbers``: each row's)."""
        values = [numbers[k] for k in rows.inverse.tolist()]
        last = values.pop()  # the default row's
        positions = rows.positions.tolist()
        if rows.by_named:
            per_sig = numbers[-rows.n_sig:]
            kept = [(c, value) for c, value, sig in zip(positions, values,
                                                        rows.projected_rows[:-1].tolist(),
                                                        strict=True)
                    if value != per_sig[sig]]
            default = np.array(per_sig, dtype=np.int64)[rows.projected]
        else:
            kept = [(c, value) for c, value in zip(positions, values, strict=True)
                    if value != last]
            default = np.array([last], dtype=np.int64)
        return Side(default, rows.by_named, np.array([c for c, _ in kept], dtype=np.int32),
                    np.array([value for _, value in kept], dtype=np.int32))

    # --- tiered sides: each tier's part a side of its own, shared, combined per class -------

    def _tiered_side(self, layers: Layers, variant: int, spans: list[Spans] | None,
                     by_named: bool) -> Side:
        """A side with cluster rules from its parts' sides: the Admin tier's (accepted,
        decided) pairs, and the NetworkPolicy sets when NetworkPolicy isolates the side, else
        the Baseline tier's pairs. A tier's part is worked out once per stack (and ports)
        and shared by every side with that stack; a class's number differs from the
        default only where one of its parts' does, so only there is it combined."""
        admin, second = self._tier_parts_of(layers, variant, spans)
        if len(second.default) == 1 or not (second.default != second.default[0]).any():
            return self._over_admin(admin, second, layers.isolated, by_named)
        n_def = len(self.named_rep) if by_named else 1
        signatures = np.arange(n_def, dtype=np.int64)
        default = self._combine(self._defaults(admin, signatures),
                                self._defaults(second, signatures), layers.isolated)
        positions = _union_positions(admin.positions, second.positions)
        if not len(positions):
            return Side(default, by_named, _NO_POSITIONS, np.zeros(0, dtype=np.int32))
        wide = positions.astype(np.int64)
        values = self._combine(admin.at(wide, self.named), second.at(wide, self.named),
                               layers.isolated)
        keep = values != (default[self.named[wide]] if by_named else default[0])
        return Side(default, by_named, positions[keep], values[keep].astype(np.int32))

    def _over_admin(self, admin: Side, second: Side, isolated: bool, by_named: bool) -> Side:
        """``_tiered_side`` when the second part's default is one number: the Admin part
        combined with that default (its default, and its numbers where they differ from
        it) is the same for every side with these two and is kept (``_admin_bases``);
        only the second part's few positions are combined, and put in its place."""
        fill = int(second.default[0])
        key = (id(admin), fill, isolated, by_named)
        found = self._admin_bases.get(key)
        if found is None or found[0] is not admin:
            n_def = len(self.named_rep) if by_named else 1
            default = self._combine(self._defaults(admin, np.arange(n_def, dtype=np.int64)),
                                    np.full(n_def, fill, dtype=np.int64), isolated)
            at_admin = admin.positions.astype(np.int64)
            known = self._admin_values.get(id(admin))
            if known is None or known[0] is not admin:  # its few numbers, and where each is
                found_numbers, where = np.unique(admin.values, return_inverse=True)
                known = self._admin_values[id(admin)] = (
                    admin, found_numbers.astype(np.int64), where.ravel())
            _, numbers, where = known
            combined = self._combine(numbers, np.full(len(numbers), fill, dtype=np.int64),
                                     isolated)[where]
            keep = combined != (default[self.named[at_admin]] if by_named else default[0])
            found = self._admin_bases[key] = (admin, default, admin.positions[keep],
                                              combined[keep].astype(np.int32))
        _, default, positions, values = found
        own = second.positions
        if not len(own):
            return Side(default, by_named, positions, values)
        wide = own.astype(np.int64)
        mine = self._combine(admin.at(wide, self.named), second.values.astype(np.int64),
                             isolated)
        kept = mine != (default[self.named[wide]] if by_named else default[0])
        if len(positions):  # the base's numbers at the second part's positions give way
            at = np.searchsorted(positions, own)
            inside = at < len(positions)
            inside[inside] = positions[at[inside]] == own[inside]
            if inside.any():
                positions = np.delete(positions, at[inside])
                values = np.delete(values, at[inside])
        own = own[kept]
        at = np.searchsorted(positions, own)
        return Side(default, by_named, np.insert(positions, at, own),
                    np.insert(values, at, mine[kept].astype(np.int32)))

    def _tiered_at(self, layers: Layers, variant: int, spans: list[Spans] | None,
                   reading: _Reading) -> npt.NDArray[np.int64]:
        """``_tiered_side`` at the classes of ``reading`` only: its tiers' parts (shared)
        read there, its NetworkPolicy part in a variant of its own worked out there only."""
        na, nn = len(layers.admin), len(layers.networkpolicy)
        admin = reading.side(self._part_side(layers.admin, True, variant,
                                             None if spans is None else spans[:na]))
        if layers.isolated:
            rules = self._part_rules(layers.networkpolicy, False)
            own = None if spans is None else spans[na:na + nn]
            if rules.blocky and variant != self.main_variant:
                # Sides of several types share these rules (and ports): read them once.
                second = reading.part(
                    (rules.ids, None if own is None or not rules.named else tuple(own)),
                    lambda: self._read_rules(rules.layers, variant, own,
                                             own is None and rules.named, reading))
            else:
                second = reading.side(self._part_side(layers.networkpolicy, False, variant,
                                                      own))
        else:
            second = reading.side(self._part_side(layers.baseline, True, variant,
                                                  None if spans is None else spans[na + nn:]))
        return self._combine(admin, second, layers.isolated)

    @staticmethod
    def _defaults(side: Side, signatures: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A side's default number for destinations of each signature."""
        found: npt.NDArray[np.int64] = (side.default[signatures] if side.by_named
                                        else np.repeat(side.default[:1], len(signatures)))
        return found

    def _tier_parts_of(self, layers: Layers, variant: int,
                       spans: list[Spans] | None) -> tuple[Side, Side]:
        """A tiered side's two parts: its Admin tier's, and its NetworkPolicy rules' when
        they isolate it, else its Baseline tier's."""
        na, nn = len(layers.admin), len(layers.networkpolicy)
        admin = self._part_side(layers.admin, True, variant,
                                None if spans is None else spans[:na])
        if layers.isolated:
            second = self._part_side(layers.networkpolicy, False, variant,
                                     None if spans is None else spans[na:na + nn])
        else:
            second = self._part_side(layers.baseline, True, variant,
                                     None if spans is None else spans[na + nn:])
        return admin, second

    def _part_rules(self, rules: tuple[AnyRule, ...], tier: bool) -> _PartRules:
        """What a part's rules are (kept by the tuple's identity: a side's tiers are its
        stacks, shared, and its NetworkPolicy rules one tuple per side type)."""
        found = self._part_rules_of.get(id(rules))
        if found is None or found.rules is not rules:
            ids = tuple(map(id, rules))
            layers = self._part_layers.get((tier, ids))
            if layers is None:
                layers = self._part_layers[tier, ids] = (
                    Layers(cast("tuple[CompiledClusterRule, ...]", rules), (), False, ())
                    if tier else Layers((), cast(tuple[CompiledRule, ...], rules), True, ()))
            named_bits = sum(1 << j for j, rule in enumerate(rules) if rule.named)
            found = self._part_rules_of[id(rules)] = _PartRules(
                rules, ids, layers, bool(named_bits), named_bits,
                sum(1 << j for j, rule in enumerate(rules) if rule.any_port),
                any(rule.block_members for rule in rules))
        return found

    def _part_side(self, rules: tuple[AnyRule, ...], tier: bool, variant: int,
                   spans: list[Spans] | None) -> Side:
        """The side of one part of a tiered side, kept: a tier's (``tier``) first-match
        (accepted, decided) pairs (their numbers in ``pairs``; no rules: the empty pair), or
        the port sets of the NetworkPolicy rules that isolate it. ``spans``: the rules'
        ports on an ingress side's class (None: egress)."""
        part = self._part_rules(rules, tier)
        key = self._key_of_part(part, tier, variant, spans)
        found = self._part_sides.get(key)
        if found is not None:
            return found
        own = variant if part.blocky else 0
        if not rules:  # no tier rule matches; isolated without a rule: nothing allowed
            found = Side(np.array([self._no_pair if tier else self.set_id(())], dtype=np.int64),
                         False, _NO_POSITIONS, np.zeros(0, dtype=np.int32))
        else:
            by_named = spans is None and part.named
            # The rows are the same whatever ports an ingress side's class gives the rules.
            rows_key = (tier, part.ids, own, by_named)
            rows = self._part_rows.get(rows_key)
            if rows is None:
                rows = self._part_rows[rows_key] = self._decomposed(
                    part.layers, own, by_named, part.any_port_bits if tier else 0)
            found = self._side_of_rows(rows, part.layers, spans,
                                       self._part_values if tier else self._side_values)
        self._part_sides[key] = found
        return found

    def _part_key(self, rules: tuple[AnyRule, ...], tier: bool, variant: int,
                  spans: list[Spans] | None) -> tuple[object, ...]:
        """What a part side is kept by: whether a tier's, its rules, the variant when they
        have address peers, their ports when some are named (rules that name no port give
        every ingress side the same ports), whether an egress side's."""
        return self._key_of_part(self._part_rules(rules, tier), tier, variant, spans)

    @staticmethod
    def _key_of_part(part: _PartRules, tier: bool, variant: int,
                     spans: list[Spans] | None) -> tuple[object, ...]:
        return (tier, part.ids, variant if part.blocky else 0,
                None if spans is None or not part.named else tuple(spans), spans is None)

    def _part_values(self, layers: Layers, masks: Keys, spans: list[Spans] | None,
                     signatures: npt.NDArray[np.int64]) -> list[int]:
        """The number in ``pairs`` of a tier's first-match (accepted, decided) ports for each
        row of ``masks`` (the tier's matching rules) with its named-port signature. A row
        that matches no rule naming a port gives the same whatever the ports of named
        rules resolve to: such rows share one rule list (and their parts) across signatures
        and sides."""
        rules = layers.admin
        part = self._part_rules_of[id(rules)]
        parts, work_out = self._part_ids, self._tier_part
        lists: dict[int, int] = {}
        named_bits, generic = part.named_bits, -1
        out: list[int] = []
        for words, signature in zip(masks.tolist(), signatures.tolist(), strict=True):
            bits = words[0]
            for w in range(1, len(words)):
                bits |= words[w] << (64 * w)
            if bits & named_bits:
                listed = lists.get(signature)
                if listed is None:
                    own = spans if spans is not None else self._egress_spans(layers, signature)
                    listed = lists[signature] = self._rule_list(
                        [(r.action, own[j]) for j, r in enumerate(rules)])
            else:
                if generic < 0:
                    own = spans if spans is not None else self._egress_spans(layers, signature)
                    generic = self._rule_list([(r.action, () if named_bits >> j & 1 else own[j])
                                               for j, r in enumerate(rules)])
                listed = generic
            found = parts.get((listed, bits))
            if found is None:
                found = work_out((listed, bits))
            out.append(found)
        return out

    def _combine(self, first: npt.NDArray[np.int64], second: npt.NDArray[np.int64],
                 isolated: bool) -> npt.NDArray[np.int64]:
        """Per class, the number of the port set of a tiered side from its parts' numbers:
        the Admin pair and the NetworkPolicy set (``isolated``) or the Baseline pair. Each
        distinct combination is worked out once (kept by the two numbers packed into one)."""
        packed = (first << 32) | second
        known = self._combinations[isolated]
        if len(packed) <= FEW_COMBINATIONS:  # a side's defaults: look each up
            return np.array([self._combination(known, key, isolated)
                             for key in packed.tolist()], dtype=np.int64)
        present = distinct(packed)
        table = np.array([self._combination(known, key, isolated) for key in present.tolist()],
                         dtype=np.int64)
        out: npt.NDArray[np.int64] = (table[np.searchsorted(present, packed)]
                                      if len(present) > 1 else np.repeat(table, len(packed)))
        return out

    def _combination(self, known: dict[int, int], key: int, isolated: bool) -> int:
        found = known.get(key)
        if found is None:
            a, x = key >> 32, key & 0xFFFFFFFF
            found = known[key] = (self._combined(a, x, self._no_pair) if isolated
                                  else self._combined(a, -1, x))
        return found

    def _named_projection(self, layers: Layers) -> tuple[npt.NDArray[np.int64], list[int]]:
        """Named-port signatures as a side's rules tell them apart: per signature of the
        cluster, the number of its group (signatures whose destinations give every named
        port these rules use the same number), and a signature standing for each group.
        Without it an egress side was worked out once per signature of the cluster: with
        named ports numbered per workload, thousands of types times thousands of
        signatures. Cluster-wide rules resolve names across protocols: no grouping."""
        n_sig = len(self.named_rep)
        if layers.admin or layers.baseline:
            return np.arange(n_sig, dtype=np.int64), list(range(n_sig))
        names = tuple(sorted({key for rule in layers.networkpolicy for key in rule.named}))
        found = self._projections.get(names)
        if found is None:
            columns = [self._named_column(key) for key in names]
            found = self._projections[names] = group_rows(columns, n_sig)
        return found

    def _named_column(self, key: tuple[Protocol, str]) -> npt.NDArray[np.int32]:
        """Per named-port signature, the number its destinations give a named port (-1:
        none)."""
        found = self._named_columns.get(key)
        if found is None:
            classes = self.engine.classes
            numbers = [classes[rep].named_port(*key) for rep in self.named_rep]
            found = self._named_columns[key] = np.array(
                [-1 if n is None else n for n in numbers], dtype=np.int32)
        return found

    def _side_at(self, layers: Layers, variant: int, spans: list[Spans] | None,
                 by_named: bool, classes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A side's numbers at some classes only (``_side``, not kept)."""
        return self._read_side(layers, variant, spans, by_named, _Reading(self, classes, variant))

    def _read_side(self, layers: Layers, variant: int, spans: list[Spans] | None,
                   by_named: bool, reading: _Reading) -> npt.NDArray[np.int64]:
        """A side's numbers at the classes of ``reading`` (in its variant)."""
        if layers.trivial or not len(reading.classes):
            return np.zeros(len(reading.classes), dtype=np.int64)
        if layers.tiered:
            return self._tiered_at(layers, variant, spans, reading)
        return self._read_rules(layers, variant, spans, by_named, reading)

    def _read_rules(self, layers: Layers, variant: int, spans: list[Spans] | None,
                    by_named: bool, reading: _Reading) -> npt.NDArray[np.int64]:
        """A side of NetworkPolicy rules at the classes of ``reading``: which rules match
        each (each rule's peers looked up there once for every side read there), each
        distinct (mask, signature) numbered once."""
        rules = layers.rules
        classes = reading.classes
        n_sig = len(self.named_rep) if by_named else 1
        if (len(rules) <= SMALL_MASK_BITS and (n_sig << len(rules)) <= SMALL_MASK_KEYS
                and len(classes) <= FEW_LISTED):
            return self._read_few(layers, spans, by_named, reading, n_sig)
        if len(rules) <= SMALL_MASK_BITS and (n_sig << len(rules)) <= SMALL_MASK_KEYS:
            # Few rules: each (mask, signature) a small number; count, no sort.
            keys = np.zeros(len(classes), dtype=np.int64)
            for j, rule in enumerate(rules):
                keys |= reading.member(rule).astype(np.int64) << j
            if by_named:
                keys = keys * n_sig + self.named[classes]
            present = np.flatnonzero(np.bincount(keys))
            table = np.zeros(int(present[-1]) + 1, dtype=np.int64)
            mask_of, sig_of = np.divmod(present, n_sig)
            table[present] = self._side_values(layers, mask_of.astype(np.uint64)[:, None],
                                               spans, sig_of)
            found: npt.NDArray[np.int64] = table[keys]
            return found
        words = max(1, (len(rules) + 63) // 64)
        masks = np.zeros((len(classes), words), dtype=np.uint64)
        for j, rule in enumerate(rules):
            masks[:, j // 64] |= reading.member(rule).astype(np.uint64) << np.uint64(j % 64)
        signatures = (self.named[classes] if by_named
                      else np.zeros(len(classes), dtype=np.int64))
        first, inverse = self._distinct(np.concatenate(
            [masks, signatures.astype(np.uint64)[:, None]], axis=1))
        local = np.array(self._side_values(layers, masks[first], spans, signatures[first]),
                         dtype=np.int64)
        values: npt.NDArray[np.int64] = local[inverse]
        return values

    def _read_few(self, layers: Layers, spans: list[Spans] | None, by_named: bool,
                  reading: _Reading, n_sig: int) -> npt.NDArray[np.int64]:
        """``_read_rules`` of few rules at a few classes, with Python integers: each
        distinct (mask, signature) numbered once, in ascending order as there."""
        keys = [0] * len(reading.classes)
        for j, rule in enumerate(layers.rules):
            bit = 1 << j
            for k in np.flatnonzero(reading.member(rule)).tolist():
                keys[k] |= bit
        if by_named:
            keys = [key * n_sig + sig for key, sig in zip(
                keys, self.named[reading.classes].tolist(), strict=True)]
        value = self._side_value
        numbers = {key: value(layers, [key // n_sig], spans, key % n_sig)
                   for key in sorted(set(keys))}
        return np.array([numbers[key] for key in keys], dtype=np.int64)

    def _side_values(self, layers: Layers, masks: Keys, spans: list[Spans] | None,
                     signatures: npt.NDArray[np.int64]) -> list[int]:
        """``_side_value`` of each row of ``masks`` with its signature."""
        value = self._side_value
        return [value(layers, words, spans, signature)
                for words, signature in zip(masks.tolist(), signatures.tolist(), strict=True)]

    def _side_value(self, layers: Layers, words: list[int], spans: list[Spans] | None,
                    signature: int) -> int:
        """The number of the port set a side allows a peer matching the rules of a mask
        (``words``: its 64-bit words as Python integers)."""
        if layers.tiered:  # sides read their parts (``_tiered_side``): one row, by definition
            own = spans if spans is not None else self._egress_spans(layers, signature)
            return self.set_id(self.side_set_at(layers, words_bits(words), own))
        if not layers.isolated:
            return self.set_id(ALL)
        if spans is None:
            spans = self._egress_spans(layers, signature)
        # A union of rules' port sets depends only on which distinct sets they are: worked
        # out once per such combination (sides of many types share them).
        numbered = self._numbered.get(id(spans))
        if numbered is None or numbered[0] is not spans:
            numbered = self._numbered[id(spans)] = (spans, [self.set_id(x) for x in spans])
        ids = numbered[1]
        on = words_bits(words)
        key = frozenset([ids[j] for j in on])
        found = self._unions.get(key)
        if found is None:
            found = self._unions[key] = self.set_id(self.side_set_at(layers, on, spans))
        return found

    def _egress_spans(self, layers: Layers, signature: int) -> list[Spans]:
        """An egress side's rules' ports, resolved on destinations of a named-port
        signature."""
        cache = self._spans_for
        per_signature = cache.get(id(layers))
        if per_signature is None:
            per_signature = cache[id(layers)] = {}
        else:
            cache.move_to_end(id(layers))
        spans = per_signature.get(signature)
        if spans is None:
            rep = self.named_rep[signature] if self.named_rep else None
            fixed = self._fixed_spans(layers)
            spans = per_signature[signature] = [
                self.rule_spans(rule, rep) if known is None else known
                for rule, known in zip(layers.rules, fixed, strict=True)]
            self._spans_kept += 1
            while self._spans_kept > SPANS_CACHE_LISTS and len(cache) > 1:
                # the least recently used sides' lists, and their numbered forms
                dropped = cache.popitem(last=False)[1]
                self._spans_kept -= len(dropped)
                for lists in dropped.values():
                    self._numbered.pop(id(lists), None)
        return spans

    def _fixed_spans(self, layers: Layers) -> list[Spans | None]:
        """The ports of a side's rules that name no port (the same towards every
        destination), None for the others."""
        found = self._fixed.get(id(layers))
        if found is None:
            found = self._fixed[id(layers)] = [None if rule.named else self.rule_spans(rule, None)
                                               for rule in layers.rules]
        return found

    def _combined(self, a_pair: int, n_set: int, b_pair: int) -> int:
        """The port set (its number) a side allows from its Admin tier's (accepted,
        decided) pair, its NetworkPolicy set (-1: NetworkPolicy does not isolate it) and its
        Baseline tier's pair (numbers in ``pairs``; the Baseline's is unused when
        NetworkPolicy isolates the side)."""
        sets = self.sets
        a_acc, a_dec = self.pairs[a_pair]
        b_acc, b_dec = self.pairs[b_pair]
        result = span_ops.tiered((sets[a_acc], sets[a_dec]), sets[n_set] if n_set >= 0 else None,
                                 (sets[b_acc], sets[b_dec]))
        return self.set_id(ALL if result == ALL else result)

    def _rule_list(self, rules: list[tuple[RuleAction, Spans]]) -> int:
        """The number of a tier's rule list, as its parts see it: (action, ports) per rule."""
        key = tuple(rules)
        found = self._rule_lists.get(key)
        if found is None:
            found = self._rule_lists[key] = len(self._listed)
            self._listed.append(key)
        return found

    def _tier_part(self, key: tuple[int, int]) -> int:
        """The part of a tier's rule list when the rules of some bits match (``key``: the
        list's number, the bits): the tier's first-match (accepted, decided) ports, their
        number in ``pairs``. Kept in ``_part_ids``, which callers look in first."""
        number, bits = key
        rules = self._listed[number]
        picked: list[tuple[RuleAction, Spans]] = []
        while bits:  # the set bits only: a row matches few of a tier's rules
            low = bits & -bits
            picked.append(rules[low.bit_length() - 1])
            bits ^= low
        accepted, decided = _first_match(tuple(picked))
        found = self.pair_id(self.set_id(accepted), self.set_id(decided))
        self._part_ids[key] = found
        return found

    def _ingress_row(self, variant: int, i_type: int,
                     src: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int32]:
        side = self.ingress_side(variant, i_type)
        row = side.dense(self._zeros64) if src is None else side.at(src, self._zeros64)
        return row.astype(np.int32)

    def ingress_ids(self, variant: int) -> npt.NDArray[np.int32]:
        """``ids[type][src]``: the number of the port set a destination of this ingress
        type accepts from class ``src`` (row 0, not isolated: every port), whole. Large:
        types times classes; the matrix itself reads ``ingress_grid``."""
        ids = np.zeros((len(self.i_rules), self.n), dtype=np.int32)
        for t in range(1, len(self.i_rules)):
            ids[t] = self._ingress_row(variant, t)
        return ids

    def _ingress_columns(self, variant: int) -> tuple[npt.NDArray[np.int64],
                                                      npt.NDArray[np.int64],
                                                      npt.NDArray[np.int32],
                                                      npt.NDArray[np.int32]]:
        """Every ingress type's numbers by source: the defaults per type, and the
        exceptions grouped by source class (offsets per source, their types, values). The
        types' sides, once gathered here, are not kept twice."""
        found = self._columns.get(variant)
        if found is None:
            types_n = len(self.i_rules)
            sides = [self.ingress_side(variant, t) for t in range(types_n)]
            for t in range(types_n):
                self._sides.pop((INGRESS, variant if self.i_blocks[t] else 0, t), None)
            defaults = np.array([side.default[0] for side in sides], dtype=np.int64)
            sizes = [len(side.positions) for side in sides]
            if sum(sizes) <= FEW_ENTRIES:
                # Few entries: sorted by source at once (a stable sort keeps the types'
                # order), not placed type by type.
                where = np.concatenate([side.positions for side in sides])
                order = np.argsort(where, kind="stable")
                offsets = np.zeros(self.n + 1, dtype=np.int64)
                np.cumsum(np.bincount(where, minlength=self.n), out=offsets[1:])
                found = (defaults, offsets,
                         np.repeat(np.arange(types_n, dtype=np.int32), sizes)[order],
                         np.concatenate([side.values for side in sides])[order])
                self._columns[variant] = found
                return found
            # A counting sort by source: count, then place each type's entries.
            cursor = np.zeros(self.n + 1, dtype=np.int64)
            for side in sides:
                cursor[side.positions + 1] += 1
            offsets = np.cumsum(cursor)
            cursor = offsets[:-1].copy()
            types = np.empty(int(offsets[-1]), dtype=np.int32)
            values = np.empty(int(offsets[-1]), dtype=np.int32)
            for t, side in enumerate(sides):
                at = cursor[side.positions]
                types[at] = t
                values[at] = side.values
                cursor[side.positions] += 1
                sides[t] = _EMPTY_SIDE  # free as we go
            found = (defaults, offsets, types, values)
            self._columns[variant] = found
        return found

    def _families(self) -> Iterator[tuple[int, npt.NDArray[np.bool_], int]]:
        """Per address family (slot 0: IPv4, 1: IPv6) that some addressed source has: the
        slot, those sources, and the variant their pairs in that family are in."""
        addressed = self.primary != 0
        for slot, family in enumerate((4, 6)):
            users = addressed & ((self.primary == family) | (self.secondary == family))
            if users.any():
                yield slot, users, family if family in self.variants else 0

    def gather_ingress(self, take: Callable[[], int | None] | None = None) -> None:
        """The main variant's ingress columns, which ``row_types`` reads, gathered ahead
        (another process may work out ``main_egress_sides`` meanwhile); then the pieces of
        ``blocky_pieces`` that ``take`` gives."""
        for _, _, variant in self._families():
            if variant == self.main_variant:
                self._ingress_columns(variant)
        pieces = self.blocky_pieces()
        while take is not None and (piece := take()) is not None:
            self._blocky[piece] = self._blocky_piece(*pieces[piece])

    def gather_other_ingress(self) -> None:
        """What the rows of the other variants read, so that the processes the rows are
        shared out to have it already (else each works it out): the ingress columns of
        every other variant's sources (those of sources without an address too, which
        ``row_types`` does not read): the main columns, with the types of ipBlock peers
        read in the variant (``blocky_pieces``, those worked out already taken)."""
        for _, _, variant in self._families():
            if variant != self.main_variant:
                self._some_table(variant)
        for variant in self.variant_users:
            if variant != self.main_variant:
                self._some_table(variant)

    def _egress_parts(self, layers: Layers, variant: int) -> list[tuple[object, ...]]:
        """The part sides ``_tiered_at`` reads for a tiered egress side in ``variant``,
        worked out; their keys."""
        wanted: list[tuple[tuple[AnyRule, ...], bool]] = [(layers.admin, True)]
        if not layers.isolated:
            wanted.append((layers.baseline, True))
        elif not self._part_rules(layers.networkpolicy, False).blocky:
            wanted.append((layers.networkpolicy, False))
        keys: list[tuple[object, ...]] = []
        for rules, tier in wanted:
            self._part_side(rules, tier, variant, None)
            keys.append(self._part_key(rules, tier, variant, None))
        return keys

    def _some_table(self, variant: int) -> tuple[npt.NDArray[np.int64],
                                                 npt.NDArray[np.int32]]:
        some = self._some.get(variant)
        if some is None:
            some = self._some[variant] = self._some_columns(variant)
        return some

    def _some_columns(self, variant: int) -> tuple[npt.NDArray[np.int64],
                                                   npt.NDArray[np.int32]]:
        """For a variant other than the main one: the whole ingress column of each source
        that has pairs in it (a row per such source, -1 for the others), its types' values
        read from the main columns where they do not depend on the family."""
        users = self.variant_users.get(variant)
        sources = (np.flatnonzero(users) if users is not None
                   else np.zeros(0, dtype=np.int64))
        grid = self._main_table(sources)
        types = self._block_types
        for piece, (of, start, stop) in enumerate(self.blocky_pieces()):
            if of == variant:
                found = self._blocky.pop(piece, None)
                grid[:, types[start:stop]] = (self._blocky_piece(of, start, stop)
                                              if found is None else found)
        rows = np.full(self.n, -1, dtype=np.int64)
        rows[sources] = np.arange(len(sources))
        return rows, grid

    def blocky_pieces(self) -> list[tuple[int, int, int]]:
        """The part of the other variants' ingress columns that depends on the variant (the
        types of ipBlock peers, read at the variant's sources) in pieces that two processes
        can share out: ``(variant, start, stop)``, the types ``_block_types[start:stop]``."""
        return self._pieces

    def _blocky_piece(self, variant: int, start: int, stop: int) -> npt.NDArray[np.int32]:
        """``columns[k][j]``: the port set number ingress type ``_block_types[start + j]``
        accepts from the ``k``-th source with pairs in ``variant``."""
        sources = np.flatnonzero(self.variant_users[variant])
        types = self._block_types[start:stop].tolist()
        columns = np.zeros((len(sources), len(types)), dtype=np.int32)
        reading = _Reading(self, sources, variant)  # peers and parts looked up once
        for j, t in enumerate(types):
            columns[:, j] = self._read_side(self.i_layers[t], variant, self.i_spans[t], False,
                                            reading)
        return columns

    def _main_table(self, src: npt.NDArray[np.int64],
                    only: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int32]:
        """``table[k][type]``: the main variant's number type accepts from ``src[k]``; with
        ``only`` (distinct ingress types), ``table[k][j]`` for type ``only[j]``."""
        defaults, offsets, types, values = self._ingress_columns(self.main_variant)
        wanted = defaults if only is None else defaults[only]
        table = np.repeat(wanted.astype(np.int32)[None, :], len(src), axis=0)
        starts, ends = offsets[src], offsets[src + 1]
        counts = ends - starts
        if counts.sum():
            picks = np.repeat(starts - np.cumsum(counts) + counts, counts) \
                + np.arange(int(counts.sum()))
            at = np.repeat(np.arange(len(src)), counts)
            column = types[picks].astype(np.int64)
            if only is not None:
                index = np.full(len(defaults), -1, dtype=np.int64)
                index[only] = np.arange(len(only))
                column = index[column]
                kept = column >= 0
                at, column, picks = at[kept], column[kept], picks[kept]
            table[at, column] = values[picks]
        return table

    def ingress_grid(self, variant: int, src: npt.NDArray[np.int64],
                     dst: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int32]:
        """``ids[src][dst]`` for sources ``src`` and destinations ``dst`` (default: every
        class) in one family: the set number each destination accepts from each source,
        from the types' defaults and each source's exceptions."""
        i_type = self.i_type32 if dst is None else self.i_type32[dst]
        only: npt.NDArray[np.int64] | None = None
        if dst is not None and len(dst) * SUBSET_SHARE < self.n:
            # A few destinations: only their types' columns.
            kinds, where = np.unique(i_type, return_inverse=True)
            only, i_type = kinds.astype(np.int64), where.ravel().astype(np.int32)
        gathered = self._columns if variant == self.main_variant else self._some
        if only is not None and len(only) <= FEW_TYPES and variant not in gathered:
            # Nor are the columns of every type gathered (a diff's few columns): the few
            # types' sides only.
            table = np.empty((len(src), len(only)), dtype=np.int32)
            for j, t in enumerate(only.tolist()):
                table[:, j] = self._ingress_row(variant, t, src)
        elif variant == self.main_variant:
            table = self._main_table(src, only)
        else:
            rows, values = self._some_table(variant)
            mine = np.maximum(rows[src], 0)
            width = len(self.i_rules) if only is None else len(only)
            table = np.zeros((len(src), width), dtype=np.int32) if not len(values) else (
                values[mine] if only is None else values[np.ix_(mine, only)])
        grid: npt.NDArray[np.int32] = np.take(table, i_type, axis=1)
        return grid

    def pair_id(self, accepted: int, decided: int) -> int:
        found = self._pair_ids.get((accepted, decided))
        if found is None:
            found = self._pair_ids[accepted, decided] = len(self.pairs)
            self.pairs.append((accepted, decided))
        return found

    def block(self, first: int, last: int) -> tuple[npt.NDArray[np.int32],
                                                    npt.NDArray[np.int32]]:
        """For sources ``first..last-1`` and every destination: the number of the egress
        port set and of the ingress port set (``(chunk, n)`` each). A pair allows their
        intersection."""
        return self.grid(np.arange(first, last))

    def grid(self, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64] | None = None
             ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """``block`` for any source classes ``src`` and destination classes ``dst``
        (default: every class): ``(len(src), len(dst))`` each."""
        rows, which, counts = self._pair_variants(src, dst)
        # The commonest variant is worked out for every pair, the others only over the
        # pairs of theirs: for the sources of each kind, the destinations it has there.
        order = [int(v) for v in np.argsort(-counts, kind="stable") if counts[v]]
        e_ids, i_ids = self._grid_of(order[0], src, dst)
        for v in order[1:]:
            for k, row in enumerate(rows):
                columns = np.flatnonzero(row == v)
                if not len(columns):
                    continue
                sources = np.flatnonzero(which == k)
                e_sub, i_sub = self._grid_of(v, src[sources],
                                             columns if dst is None else dst[columns])
                cells = np.ix_(sources, columns)
                e_ids[cells], i_ids[cells] = e_sub, i_sub
        return e_ids, i_ids

    def _grid_of(self, variant: int, src: npt.NDArray[np.int64],
                 dst: npt.NDArray[np.int64] | None) -> tuple[npt.NDArray[np.int32],
                                                              npt.NDArray[np.int32]]:
        """Egress and ingress set numbers of every pair of ``src`` x ``dst`` in one
        variant."""
        few = dst is not None and len(dst) * SUBSET_SHARE < self.n
        egress = np.empty((len(src), self.n if dst is None else len(dst)), dtype=np.int32)
        # A row per egress type, written where its first source's goes; the other sources
        # of the type (a grid of row types has few) copy it.
        present, first, which = np.unique(self.e_type[src], return_index=True,
                                          return_inverse=True)
        for t, at in zip(present.tolist(), first.tolist(), strict=True):
            if dst is None:
                self.egress_side(variant, t).fill(egress[at], self.named)
            else:
                row = self.egress_ids(variant, t, dst if few else None)
                egress[at] = row if few else row[dst]
        if len(present) < len(src):
            firsts = first[which.ravel()]
            rest = np.flatnonzero(firsts != np.arange(len(src)))
            egress[rest] = egress[firsts[rest]]
        return egress, self.ingress_grid(variant, src, dst)

    @staticmethod
    def _union(mask: Keys, spans: Sequence[Spans]) -> Spans:
        """The union of the port sets of the rules whose bits are set in ``mask``."""
        parts: list[tuple[int, int, int]] = []
        for j, rule_spans in enumerate(spans):
            if int(mask[j // 64]) >> (j % 64) & 1:
                if rule_spans is ALL:
                    return ALL
                parts.extend(rule_spans)
        merged = _merge(parts)
        return ALL if merged == ALL else merged

    @staticmethod
    def _segment_ids(offsets: npt.NDArray[np.int64], types: npt.NDArray[np.int32],
                     values: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        """Per source, a number for its (type, value) exceptions: equal numbers exactly when
        the exceptions are equal (their bytes are the key)."""
        kinds, picks = types.view(np.uint8).data, values.view(np.uint8).data
        bounds = (offsets * 4).tolist()  # both arrays hold 4-byte numbers
        numbers: dict[tuple[bytes, bytes], int] = {}
        out = [numbers.setdefault((bytes(kinds[lo:hi]), bytes(picks[lo:hi])), len(numbers))
               for lo, hi in itertools.pairwise(bounds)]
        return np.array(out, dtype=np.int64)

    @staticmethod
    def _table_ids(table: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        """Per row of ``table``, a number: equal numbers exactly when the rows are equal."""
        numbers: dict[bytes, int] = {}
        return np.array([numbers.setdefault(row.tobytes(), len(numbers)) for row in table],
                        dtype=np.int64)

    @staticmethod
    def _side_key(side: Side) -> bytes:
        return b"|".join((side.default.tobytes(), bytes([side.by_named]),
                          side.positions.tobytes(), side.values.tobytes()))

    def row_types(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Classes whose rows are equal share a row type: a source's row is told by its
        egress type, its address families and what every ingress type accepts from it in
        each of its families (its exceptions in the ingress columns, compared exactly as
        bytes). A source without an address has a type of its own. Returns each class's
        row type and a class of each type."""
        addressed = self.primary != 0
        keys = np.zeros((self.n, 5), dtype=np.int64)
        # Egress types whose sides are equal in the main variant answer alike; a source
        # with pairs in another variant keeps its own egress type.
        e_key: dict[bytes, int] = {}
        alike = np.array([e_key.setdefault(self._side_key(self.egress_side(
            self.main_variant, t)), len(e_key)) for t in range(len(self.e_layers))],
            dtype=np.int64)
        others = np.zeros(self.n, dtype=np.bool_)
        for v, users in self.variant_users.items():
            if v != self.main_variant:
                others |= users
        keys[:, 0] = np.where(others, -1 - self.e_type, alike[self.e_type])
        keys[:, 1] = self.primary * 8 + self.secondary
        keys[:, 4] = np.where(addressed, -1, np.arange(self.n))
        for slot, users, variant in self._families():
            if variant == self.main_variant:
                _, offsets, types, values = self._ingress_columns(variant)
                keys[users, 2 + slot] = self._segment_ids(offsets, types, values)[users]
            else:
                rows, table = self._some_table(variant)
                listed = users & (rows >= 0)
                keys[listed, 2 + slot] = self._table_ids(table)[rows[listed]]
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        return inverse.ravel().astype(np.int64), first.astype(np.int64)

    def chunks(self) -> Iterator[tuple[int, int]]:
        step = max(1, CHUNK_CELLS // max(1, self.n))
        for first in range(0, self.n, step):
            yield first, min(self.n, first + step)

    # --- the same pieces for analyses of some rows only (lint) ------------------------------

    def rule_masks(self, rules: Sequence[AnyRule], variant: int) -> Keys:
        """Bit j of row c: rule j's peers match class c, for every class."""
        return self._masks(rules, variant, slice(None), self.n, max(1, (len(rules) + 63) // 64))

    @staticmethod
    def distinct_rows(rows: Keys) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Distinct rows: (first index of each, each row's distinct)."""
        return PairSets._distinct(rows)

    @staticmethod
    def union(mask: Keys, spans: Sequence[Spans]) -> Spans:
        """The union of the port sets ``spans[j]`` of the rules whose bits are set."""
        return PairSets._union(mask, spans)

    @staticmethod
    def tier_pairs(layers: Layers, on: Sequence[int],
                   spans: Sequence[Spans]) -> tuple[TierPair, TierPair]:
        """The Admin and the Baseline tier's first-match (accepted, decided) ports for a
        peer matching the rules at positions ``on`` (ascending, numbered as in ``side_set``)."""
        na, nn = len(layers.admin), len(layers.networkpolicy)
        admin = _first_match(tuple((layers.admin[j].action, spans[j]) for j in on if j < na))
        baseline = _first_match(tuple((layers.baseline[j - na - nn].action, spans[j])
                                      for j in on if j >= na + nn))
        return admin, baseline

    @staticmethod
    def side_set(layers: Layers, mask: Keys, spans: Sequence[Spans]) -> Spans:
        """What a side allows a peer whose matching rules are the bits of ``mask`` (rules
        numbered as ``layers.rules``, ``spans`` their ports): the tiers in order, or the
        union of the NetworkPolicy rules when no cluster rule applies."""
        if not layers.tiered:
            return PairSets._union(mask, spans) if layers.isolated else ALL
        return PairSets.side_set_at(layers, set_bits(mask), spans)

    @staticmethod
    def side_set_at(layers: Layers, on: Sequence[int], spans: Sequence[Spans], *,
                    pairs: tuple[TierPair, TierPair] | None = None) -> Spans:
        """``side_set`` for the rules at positions ``on`` (ascending); ``pairs``: their
        ``tier_pairs`` when the caller has them already."""
        if not layers.tiered:
            if not layers.isolated:
                return ALL
            parts: list[tuple[int, int, int]] = []
            for j in on:
                if spans[j] is ALL:
                    return ALL
                parts.extend(spans[j])
            merged = _merge(parts)
            return ALL if merged == ALL else merged
        admin, baseline = pairs if pairs is not None else PairSets.tier_pairs(layers, on, spans)
        allowed: Spans | None = None
        if layers.isolated:
            na, nn = len(layers.admin), len(layers.networkpolicy)
            allowed = _merge([s for j in on if na <= j < na + nn for s in spans[j]])
        result = span_ops.tiered(admin, allowed, baseline)
        return ALL if result == ALL else result

    def ingress_sets(self, variant: int, dst: int) -> npt.NDArray[np.int32]:
        """Per source class, the number of the port set class ``dst`` accepts from it."""
        i_type = int(self.i_type[dst])
        if i_type == 0:
            return np.zeros(self.n, dtype=np.int32)
        return self._ingress_row(variant, i_type)


class ConnectivityMatrix(msgspec.Struct, frozen=True):
    """Connections allowed between classes: ``texts[codes[src, dst]]``. ``texts`` always
    holds ``all`` (the verdict of a pod towards itself and node traffic)."""

    engine: Engine
    codes: npt.NDArray[np.int32]
    texts: tuple[str, ...]

    @property
    def all_id(self) -> int:
        return self.texts.index("all")

    def between_pods(self, src: int, dst: int) -> str:
        if src == dst or self.engine.node_traffic(src, dst):
            return "all"
        pc = self.engine.pod_class
        return self.texts[int(self.codes[pc[src], pc[dst]])]

    def pod_row(self, src: int) -> npt.NDArray[np.int32]:
        """Text ids from pod ``src`` to every pod, node traffic and itself included."""
        pc = np.asarray(self.engine.pod_class)
        row: npt.NDArray[np.int32] = self.codes[pc[src]][pc].copy()
        row[src] = self.all_id
        for dst in self.engine.node_peers(src):
            row[dst] = self.all_id
        return row




# (egress set, ingress set) pairs numbered through a table (256 MiB); below 2**31, a cell's
# number is computed in 32 bits
PAIR_TABLE_CELLS = 1 << 26


class ClassRows:
    """The matrix streamed: iterating yields ``(src, ids)`` per source class, where
    ``texts[ids[dst]]`` is what class ``src`` may open to class ``dst`` (distinct pods; a class
    of one pod reaches itself). ``texts`` grows as new connection sets turn up, and always
    holds ``all``. Memory stays at one chunk of rows, whatever the cluster's size."""

    def __init__(self, engine: Engine,
                 progress: Callable[[float], None] | None = None) -> None:
        self.engine = engine
        self.keys = PairSets(engine)
        self.progress = progress
        self.texts: list[str] = ["all"]
        self.spans: list[Spans] = [ALL]  # the port set of each text
        self.all_id = 0
        self._ids: dict[str, int] = {"all": 0}
        self._span_arrays = span_arrays.SpanArrays()  # the port sets as arrays of ranges
        self._range_ids: dict[bytes, int] = {}  # an intersection's ranges -> its text's number
        self._span_ids: dict[Spans, int] = {}
        self._table = np.full(0, -1, dtype=np.int32)
        self._width = 0
        self._pair_keys = np.zeros(0, dtype=np.int64)  # past the table: pairs met, sorted
        self._pair_key_ids = np.zeros(0, dtype=np.int32)
        self.same_as: int | None = None  # after each row: an earlier class with that row
        self.row_type = np.zeros(0, dtype=np.int64)
        self._types: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                           npt.NDArray[np.bool_], npt.NDArray[np.int64]] | None = None
        self._row_cache: OrderedDict[int, npt.NDArray[np.int32]] = OrderedDict()

    def _spans_id(self, spans: Spans) -> int:
        found = self._span_ids.get(spans)
        if found is None:  # a new connection set: worded once
            text = _text(spans)
            found = self._ids.setdefault(text, len(self.texts))
            if found == len(self.texts):
                self.texts.append(text)
                self.spans.append(spans)
            self._span_ids[spans] = found
        return found

    def _pair_ids(self, e_sets: npt.NDArray[np.int64],
                  i_sets: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
        """Text ids of the intersections of pairs of sets, all at once: a bounded batch of
        pairs at a time intersected as arrays of ranges (``span_arrays``), each distinct
        result looked up (or decoded, once)."""
        table = self._span_arrays
        table.extend(self.keys.sets)
        known = self._range_ids
        e_sets = np.asarray(e_sets, dtype=np.int64)
        i_sets = np.asarray(i_sets, dtype=np.int64)
        out = np.empty(len(e_sets), dtype=np.int32)
        for at, to in table.batches(e_sets, i_sets):
            found = out[at:to]
            for pairs, keys, inverse in span_arrays.grouped(
                    *table.intersections(e_sets[at:to], i_sets[at:to])):
                ids = np.empty(len(keys), dtype=np.int32)
                for k, key in enumerate(keys):
                    got = known.get(key)
                    if got is None:
                        got = known[key] = self._spans_id(span_arrays.decode(key))
                    ids[k] = got
                found[pairs] = ids[inverse]
        return out

    def _ids_of(self, e_ids: npt.NDArray[np.int32],
                i_ids: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        """Text ids of pairs from their two set numbers, through a table of every pair of
        set numbers (a few thousand sets: a few million cells), filled as pairs turn up.
        Past ``PAIR_TABLE_CELLS`` cells (many distinct port sets: named ports numbered per
        workload, many ranges) the pairs met are kept sorted instead."""
        size = len(self.keys.sets)
        if size > self._width and (2 * size) ** 2 > PAIR_TABLE_CELLS:
            return self._sparse_ids_of(e_ids, i_ids)
        if size > self._width:
            width = 2 * size
            grown = np.full((width, width), -1, dtype=np.int32)
            old = self._table.reshape(self._width, self._width)
            grown[:self._width, :self._width] = old
            self._table, self._width = grown.ravel(), width
        # A cell's number fits 32 bits: the table holds at most PAIR_TABLE_CELLS. The
        # grid's own egress numbers become the cells' (callers pass arrays made for this).
        flat = e_ids.astype(np.int32, copy=False)
        flat *= np.int32(self._width)
        flat += i_ids
        found: npt.NDArray[np.int32] = np.take(self._table, flat)
        if found.size and found.min() < 0:  # cells not known before (one pass if none)
            missing = np.flatnonzero(found < 0)
            cells = flat.ravel()[missing]
            pairs = distinct(cells)
            self._table[pairs] = self._pair_ids(*np.divmod(pairs.astype(np.int64),
                                                           self._width))
            found.ravel()[missing] = self._table[cells]  # only the cells not known before
        return found

    def _sparse_ids_of(self, e_ids: npt.NDArray[np.int32],
                       i_ids: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        """``_ids_of`` for too many sets for a table: each pair as one 64-bit key, the
        pairs met so far kept sorted with their text ids."""
        flat = (e_ids.astype(np.int64) << 32) | i_ids.astype(np.int64)
        keys, inverse = np.unique(flat.ravel(), return_inverse=True)
        known, known_ids = self._pair_keys, self._pair_key_ids
        ids = np.empty(len(keys), dtype=np.int32)
        at = np.minimum(np.searchsorted(known, keys), max(len(known) - 1, 0))
        hit = known[at] == keys if len(known) else np.zeros(len(keys), dtype=np.bool_)
        ids[hit] = known_ids[at[hit]]
        if not hit.all():
            new = keys[~hit]
            new_ids = self._pair_ids(new >> 32, new & 0xFFFFFFFF)
            ids[~hit] = new_ids
            merged = np.concatenate([known, new])
            order = np.argsort(merged, kind="stable")
            self._pair_keys = merged[order]
            self._pair_key_ids = np.concatenate([known_ids, new_ids])[order]
        out: npt.NDArray[np.int32] = ids[inverse.ravel()].reshape(flat.shape)
        return out

    def cells(self, src: npt.NDArray[np.int64],
              dst: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int32]:
        """Text ids from classes ``src`` to classes ``dst`` (default: all), for distinct
        pods: a class of one pod towards itself is not special-cased here."""
        if not len(src) or (dst is not None and not len(dst)):
            return np.zeros((len(src), self.keys.n if dst is None else len(dst)),
                            dtype=np.int32)
        return self._ids_of(*self.keys.grid(src, dst))

    def __iter__(self) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        """Rows in class order; see ``rows``."""
        return self.rows(0, self.keys.n)

    def prepare(self) -> None:
        """Work out the row types, and which earlier row each row equals, once, before
        rows are asked for (any range of them gets the same answers)."""
        if self._types is not None:
            return
        n = self.keys.n
        row_type, reps = self.keys.row_types()
        self.row_type = row_type
        singles = np.array([len(c.members) == 1 for c in self.engine.classes],
                           dtype=np.bool_)
        # A class of several pods has its type's row; one of a single pod too when the
        # cell towards itself (the pod reaching itself, written as all) says all already.
        clean = ~singles
        alone = np.flatnonzero(singles)
        if len(alone) and len(reps) * n <= CHUNK_CELLS:
            # The rows of every type fit in one chunk: worked out now (``rows`` reads them
            # from the cache); a class's cell towards itself is its type's row's there.
            self._type_rows(reps, list(range(len(reps))))
            cache = self._row_cache
            clean[alone] = [cache[t][c] == self.all_id
                            for t, c in zip(row_type[alone].tolist(), alone.tolist(),
                                            strict=True)]
        else:
            # By egress type, so that each block's sources share few egress sides.
            alone = alone[np.argsort(self.keys.e_type[alone], kind="stable")]
            for at in range(0, len(alone), SELF_CELLS):
                part = alone[at:at + SELF_CELLS]
                clean[part] = np.diagonal(self.cells(part, part)) == self.all_id
        first = np.full(len(reps), n, dtype=np.int64)
        np.minimum.at(first, row_type[clean], np.flatnonzero(clean))
        same = np.where(clean, first[row_type], n)
        same[same >= np.arange(n)] = -1
        self._types = (row_type, reps, singles & ~clean, same)

    def _type_rows(self, reps: npt.NDArray[np.int64], types: list[int]) -> None:
        """The rows of row types ``types`` (``reps``: a class of each type), worked out at
        once and kept in the row cache."""
        block = self._ids_of(*self.keys.grid(reps[types]))
        block.flags.writeable = False
        for k, t in enumerate(types):
            self._row_cache[t] = block[k]

    def rows(self, start: int, stop: int, *,
             report: bool = True) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        """The rows of classes ``start .. stop-1`` in order. Classes of one row type share
        one computed row (kept in a bounded cache while its classes come); ``same_as``
        tells, after each row, the first class whose row it equals exactly, when that is an
        earlier one (whatever ``start`` is; a class of one pod reaching itself differs from
        its type's row at its own column unless that cell is ``all`` already). The rows
        computed are kept between calls in a bounded cache; ``report``: call ``progress``
        with the share of the range done."""
        return self.rows_of(np.arange(start, stop, dtype=np.int64), report=report)

    def rows_of(self, classes: npt.NDArray[np.int64], *,
                report: bool = True) -> Iterator[tuple[int, npt.NDArray[np.int32]]]:
        """``rows`` of the classes ``classes``, in their order."""
        n = self.keys.n
        self.prepare()
        assert self._types is not None
        row_type, reps, own_cell, same = self._types
        cache = self._row_cache
        limit = max(1, ROW_CACHE_BYTES // max(1, 4 * n))
        step = max(1, CHUNK_CELLS // max(1, n))
        for first in range(0, len(classes), step):
            chunk = classes[first:first + step]
            types = row_type[chunk]
            needed = [t for t in sorted(set(types.tolist())) if t not in cache]
            for at in range(0, len(needed), step):
                self._type_rows(reps, needed[at:at + step])
            for src, t in zip(chunk.tolist(), types.tolist(), strict=True):
                row = cache[t]
                cache.move_to_end(t)
                earlier = int(same[src])
                self.same_as = earlier if earlier >= 0 else None
                if own_cell[src]:
                    row = row.copy()
                    row[src] = self.all_id
                yield src, row
            while len(cache) > limit:
                cache.popitem(last=False)
            if report and self.progress is not None:
                self.progress((first + len(chunk)) / max(1, len(classes)))


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
    keys = PairSets(engine)
    proto = _PROTOCOL_INDEX[protocol]
    out = np.zeros((keys.n, keys.n), dtype=np.bool_)
    for first, last in keys.chunks():
        e_ids, i_ids = keys.block(first, last)
        has = np.array([_contains(s, proto, port) for s in keys.sets], dtype=np.bool_)
        # The pair allows the intersection of its two sets: the port must be in both.
        out[first:last] = has[e_ids] & has[i_ids]
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
