"""The connectivity matrix rolled up to units of pods: namespaces, or workloads.

For each ordered pair of units the pairs of distinct member pods are counted by what they
may open (everything, something, nothing), and the connections every one of those pairs
may open are their connection sets' intersection. A unit pair is ``all`` or ``none`` when
every member pair is, else ``partial`` with that intersection and the counts. Pure: a layer
over the class matrix's rows, exact pod by pod (node traffic included).

A unit's pods come in *parts*: the pods of one behaviour class in one unit. Node traffic
(a host-network pod and a pod on its node, both ways ``all`` whatever the classes say) is
counted per pair of parts: how many of their pairs of pods it covers; a pair of parts it
covers entirely has no pair left to intersect. A source class's row is spread over the
destination parts, and each source unit keeps, per destination part, the intersection of
what its classes open (one table look-up per part); when the unit's last class has been
read, the parts of each destination unit are intersected, counts are summed, and its row
is ready. Any range of source units can be rolled up by itself (from the class rows of its
parts), so processes can share them out. Memory: the open units' rows over parts, never
pairs of pods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockade.engine.engine import Engine
from stockade.engine.matrix import ClassRows
from stockade.engine.ports import PortSpan, format_connections, parse_connections

Ints = npt.NDArray[np.int64]
Ids = npt.NDArray[np.int32]
_NO_PARTS: Ints = np.zeros(0, dtype=np.int64)

ALL, NONE, PARTIAL = 0, 1, 2
VERDICTS = ("all", "none", "partial")


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One source unit's row over every destination unit: ``verdict`` (``ALL``, ``NONE``,
    ``PARTIAL``), the text id of what every member pair may open (``every``), and how many
    member pairs may open everything, something but not everything, nothing."""

    unit: int
    verdict: npt.NDArray[np.int8]
    every: Ids
    all: Ints
    some: Ints
    none: Ints


def _intersect_spans(a: list[PortSpan], b: list[PortSpan]) -> list[PortSpan]:
    out: list[PortSpan] = []
    for x in a:
        for y in b:
            if x.protocol == y.protocol and max(x.first, y.first) <= min(x.last, y.last):
                out.append(PortSpan(x.protocol, max(x.first, y.first), min(x.last, y.last)))
    return out


class Meets:
    """Texts of connection sets by id, and the id of any two's intersection, looked up for
    whole arrays at once through a table filled as pairs turn up. Its ids are its own: the
    matrix's are translated (``own``), as its texts grow while rows are read."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._ids: dict[str, int] = {}
        self._table = np.full((0, 0), -1, dtype=np.int32)
        self._from: Ids = np.zeros(0, dtype=np.int32)  # matrix text id -> own id

    def id(self, text: str) -> int:
        found = self._ids.get(text)
        if found is None:
            found = self._ids[text] = len(self.texts)
            self.texts.append(text)
        return found

    def own(self, ids: Ids, texts: Sequence[str]) -> Ids:
        """The matrix's text ids ``ids`` (texts ``texts``) as this table's ids."""
        if len(texts) > len(self._from):
            self._from = np.array([self.id(t) for t in texts], dtype=np.int32)
        found: Ids = self._from[ids]
        return found

    def _grow(self) -> None:
        """A table with a row and a column for every text (ids are below ``len(texts)``)."""
        if len(self.texts) > len(self._table):
            size = 2 * len(self.texts)
            grown = np.full((size, size), -1, dtype=np.int32)
            grown[:len(self._table), :len(self._table)] = self._table
            self._table = grown

    def meet(self, a: Ids, b: Ids) -> Ids:
        """Elementwise: the id of the intersection of texts ``a[i]`` and ``b[i]``."""
        self._grow()
        out: Ids = self._table[a, b]
        missing = np.flatnonzero(out < 0)
        if len(missing):
            pairs = np.unique(np.stack([a[missing], b[missing]]), axis=1)
            for x, y in pairs.T.tolist():
                text = format_connections(_intersect_spans(
                    parse_connections(self.texts[x]), parse_connections(self.texts[y])))
                self._table[x, y] = self._table[y, x] = self.id(text)
                self._grow()
            out = self._table[a, b]
        return out

    def segments(self, values: Ids, starts: Ints) -> Ids:
        """The intersection of each segment ``values[starts[k]:starts[k + 1]]``."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.int32)
        low = np.minimum.reduceat(values, starts)
        high = np.maximum.reduceat(values, starts)
        result: Ids = low.astype(np.int32)
        mixed = np.flatnonzero(low != high)
        if len(mixed) == 0:
            return result
        # Doubling over the mixed segments only: after step k, position i holds the
        # intersection of its segment's values i .. i + 2**(k+1) - 1.
        ends = np.append(starts[1:], len(values))
        lengths = ends[mixed] - starts[mixed]
        pick = np.repeat(starts[mixed] - np.cumsum(lengths) + lengths, lengths) \
            + np.arange(int(lengths.sum()))
        work = values[pick].astype(np.int32)
        local_end = np.repeat(np.cumsum(lengths), lengths)  # end of each value's segment
        position = np.arange(len(work))
        step = 1
        while step < int(lengths.max()):
            ok = np.flatnonzero(position + step < local_end)
            work[ok] = self.meet(work[ok], work[ok + step])
            step *= 2
        result[mixed] = work[np.cumsum(lengths) - lengths]
        return result


@dataclass(frozen=True, slots=True)
class Units:
    """Every pod's unit: ``names[unit_of[pod]]``."""

    names: tuple[str, ...]
    unit_of: Ints

    @classmethod
    def of(cls, keys: Sequence[str]) -> Units:
        """Units named by ``keys[pod]``, in order of first appearance."""
        position: dict[str, int] = {}
        unit_of = np.array([position.setdefault(k, len(position)) for k in keys],
                           dtype=np.int64)
        return cls(tuple(position), unit_of)

    def sizes(self) -> Ints:
        return np.bincount(self.unit_of, minlength=len(self.names)).astype(np.int64)


def namespace_units(engine: Engine) -> Units:
    return Units.of([p.namespace for p in engine.pods])


def workload_units(engine: Engine, owner: Mapping[str, str] | None) -> Units:
    """A pod's workload (``owner``: pod key -> workload key); a pod that no workload owns
    (or a workload's template) is a unit of its own."""
    mapping = owner or {}
    return Units.of([mapping.get(p.key, p.key) for p in engine.pods])


def _as_is(rows: Iterator[tuple[int, Ids]]) -> Iterable[tuple[int, Ids]]:
    return rows


class Aggregation:
    """Rolls the class rows of ``rows`` up to units: ``rows_of(start, stop)`` yields one
    ``UnitRow`` per unit of that range, in order (any range, in any process; iterating
    yields them all). ``timed`` wraps each iterator of class rows read (to time them)."""

    def __init__(self, engine: Engine, units: Units, rows: ClassRows,
                 timed: Callable[[Iterator[tuple[int, Ids]]],
                                 Iterable[tuple[int, Ids]]] = _as_is) -> None:
        self.engine = engine
        self.units = units
        self.class_rows = rows
        self.timed = timed
        self.matrix_texts = rows.texts  # grows as the rows are computed
        self.meets = Meets()
        self.all_id = self.meets.id("all")
        self.none_id = self.meets.id("none")
        self.sizes = units.sizes()
        self._parts()

    def _parts(self) -> None:
        """Parts sorted by unit (then class); per class, its parts as sources; per part, the
        parts its pods have node traffic with and how many such pairs of pods each holds."""
        engine = self.engine
        n_pods = len(engine.pods)
        pod_class = np.asarray(engine.pod_class, dtype=np.int64)
        # A part: (unit, class), as one code; sorted by unit, then class.
        codes = self.units.unit_of * max(len(engine.classes), 1) + pod_class if n_pods else \
            np.zeros(0, dtype=np.int64)
        parts, part_of_pod, weight = np.unique(codes, return_inverse=True, return_counts=True)
        part_of_pod = part_of_pod.ravel()
        self.part_unit: Ints = parts // max(len(engine.classes), 1)
        self.part_class: Ints = parts % max(len(engine.classes), 1)
        self.part_weight: Ints = weight.astype(np.int64)
        self.unit_starts: Ints = np.searchsorted(self.part_unit,
                                                 np.arange(len(self.units.names)))
        self.unit_ends: Ints = np.append(self.unit_starts[1:], len(parts))
        self.node_parts = self._node_parts(part_of_pod)

    def _node_parts(self, part_of_pod: Ints) -> dict[int, tuple[Ints, Ints]]:
        """Per source part, the destination parts with which some of its pairs of pods have
        node traffic (a host-network pod and a pod on its node, either way round), with the
        number of such pairs: these pairs are ``all``, whatever the classes say."""
        engine = self.engine
        pairs: set[tuple[int, int]] = set()
        for i, pod in enumerate(engine.pods):
            if pod.host_network:
                for p in engine.node_peers(i):
                    if p != i:
                        pairs.update(((i, p), (p, i)))
        if not pairs:
            return {}
        pods = np.array(sorted(pairs), dtype=np.int64)
        n_parts = len(self.part_unit)
        codes = part_of_pod[pods[:, 0]] * n_parts + part_of_pod[pods[:, 1]]
        found, k = np.unique(codes, return_counts=True)  # sorted by source part
        src, dst = found // n_parts, found % n_parts
        starts = np.flatnonzero(np.diff(src, prepend=-1))
        ends = np.append(starts[1:], len(src))
        return {int(src[a]): (dst[a:b], k[a:b].astype(np.int64))
                for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}

    def __iter__(self) -> Iterator[UnitRow]:
        return self.rows_of(0, len(self.units.names))

    def rows_of(self, start: int, stop: int, *, report: bool = True) -> Iterator[UnitRow]:
        """The rows of units ``start .. stop-1``, made from the class rows of their parts
        (``report``: the class rows report progress)."""
        n_units = len(self.units.names)
        if start >= stop:
            return
        first, last = int(self.unit_starts[start]), int(self.unit_ends[stop - 1])
        by_class = first + np.argsort(self.part_class[first:last], kind="stable")
        classes, at = np.unique(self.part_class[by_class], return_index=True)
        class_parts = dict(zip(classes.tolist(), np.split(by_class, at[1:]), strict=True))
        parts_left = np.bincount(self.part_unit[first:last] - start, minlength=stop - start)
        open_units: dict[int, tuple[Ids, Ints, Ints]] = {}
        ready: dict[int, UnitRow] = {}
        next_unit = start
        for src, ids in self.timed(self.class_rows.rows_of(classes, report=report)):
            values = self.meets.own(ids[self.part_class], self.matrix_texts)
            counts = self._counts(values)
            for part in class_parts[src].tolist():
                unit = int(self.part_unit[part])
                w = int(self.part_weight[part])
                opened = open_units.get(unit)
                if opened is None:
                    met = None
                    all_w = none_w = np.zeros(n_units, dtype=np.int64)
                else:
                    met, all_w, none_w = opened
                all_w = all_w + w * counts[0]
                none_w = none_w + w * counts[1]
                # The pairs (a, a) of this part's pods were counted: take them back.
                own = int(values[part])
                if own == self.all_id:
                    all_w[unit] -= w
                elif own == self.none_id:
                    none_w[unit] -= w
                # Node traffic: these pairs are all, whatever the classes say.
                peers, k = self.node_parts.get(part, (_NO_PARTS, _NO_PARTS))
                if len(peers):
                    cells = values[peers]
                    np.add.at(all_w, self.part_unit[peers], np.where(cells != self.all_id, k, 0))
                    np.add.at(none_w, self.part_unit[peers],
                              np.where(cells == self.none_id, -k, 0))
                # A destination part all of whose pairs with this one are node traffic or a
                # pod with itself has no pair to intersect: all there.
                pairs = w * self.part_weight[peers] - np.where(peers == part, w, 0)
                skip = peers[k == pairs]
                if w == 1:
                    skip = np.append(skip, part)
                kept = values[skip]
                values[skip] = self.all_id
                # The unit's first part: its cells as they are (all meets x as x).
                meet = values.copy() if met is None else self.meets.meet(met, values)
                values[skip] = kept
                open_units[unit] = (meet, all_w, none_w)
                parts_left[unit - start] -= 1
                if parts_left[unit - start] == 0:
                    ready[unit] = self._row(unit, *open_units.pop(unit))
            while next_unit in ready:
                yield ready.pop(next_unit)
                next_unit += 1
        assert next_unit == stop and not open_units, "every unit's classes were read"

    def _counts(self, values: Ids) -> tuple[Ints, Ints]:
        """Per destination unit, the weight of its parts whose cell is ``all``, ``none``."""
        w = self.part_weight
        starts = self.unit_starts
        if len(values) == 0:
            zero = np.zeros(len(starts), dtype=np.int64)
            return zero, zero
        return (np.add.reduceat(np.where(values == self.all_id, w, 0), starts),
                np.add.reduceat(np.where(values == self.none_id, w, 0), starts))

    def _row(self, unit: int, meet: Ids, all_w: Ints, none_w: Ints) -> UnitRow:
        pairs = self.sizes[unit] * self.sizes
        pairs[unit] -= self.sizes[unit]
        every = self.meets.segments(meet, self.unit_starts) if len(meet) else \
            np.full(len(pairs), self.all_id, dtype=np.int32)
        verdict = np.full(len(pairs), PARTIAL, dtype=np.int8)
        verdict[none_w == pairs] = NONE
        verdict[all_w == pairs] = ALL  # also where there is no pair at all
        return UnitRow(unit, verdict, every, all_w, pairs - all_w - none_w, none_w)
