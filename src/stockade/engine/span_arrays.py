"""Port sets as flat arrays of ranges, so that many pairs of sets are intersected at once,
in memory that follows the sets' spans. Pure.

Each set is its spans as half-open ranges ``[start, stop)`` of one line on which the
protocols lie end to end (``STRIDE`` apart, so that no range crosses from one protocol into
the next), all sets' ranges in two arrays with the offsets of each set's. The intersection
of a pair is found per range of the first set: the ranges of the second that overlap it are
a run found by two binary searches, all the pairs of a batch at once (each pair's ranges
keyed by the pair's number, so that one sorted array holds them all). The overlaps come out
sorted and never touch (consecutive ranges of a set leave a gap), so a pair's overlaps are
the canonical spans of its intersection as they stand.

An earlier form held each set as a row of bits over the segments that every set's
boundaries cut the ports into: sets times segments, which grows like the square of a
cluster with ports named per workload (1.3 GB of rows for 392,312 sets over 28,027
segments at 20,000 pods). Here a set costs its spans, and a batch of pairs the sum of their
spans (``PAIR_BATCH_SPANS``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from stockade.engine.spans import Spans

STRIDE = 1 << 17  # (protocol, port) -> protocol * STRIDE + port: 65,536 apart at least
PAIR_KEY = 1 << 20  # a pair's ranges keyed pair * PAIR_KEY + position: above every stop
PAIR_BATCH_SPANS = 1 << 21  # spans of the pairs of sets intersected at once

Ints = npt.NDArray[np.int64]


def _ranges(first: Ints, count: Ints) -> tuple[Ints, Ints]:
    """The positions ``first[k] .. first[k] + count[k] - 1`` of every k laid end to end, and
    the k each comes from."""
    owner = np.repeat(np.arange(len(count), dtype=np.int64), count)
    starts = np.cumsum(count) - count  # where each k's positions begin in the output
    positions = np.arange(len(owner), dtype=np.int64) - starts[owner] + first[owner]
    return positions, owner


class SpanArrays:
    """The sets of a list that only grows (``PairSets.sets``), encoded as they are asked for."""

    def __init__(self) -> None:
        self._count = 0  # sets encoded so far
        self._used = 0  # ranges stored so far
        self.offsets = np.zeros(1, dtype=np.int64)  # set k: ranges offsets[k] .. offsets[k+1]
        self.starts = np.zeros(0, dtype=np.int64)
        self.stops = np.zeros(0, dtype=np.int64)

    def extend(self, sets: Sequence[Spans]) -> None:
        """Encode the sets of ``sets`` past those already encoded."""
        if len(sets) <= self._count:
            return
        fresh = sets[self._count:]
        flat = [(p * STRIDE + first, p * STRIDE + last + 1)
                for spans in fresh for p, first, last in spans]
        lengths = np.fromiter((len(spans) for spans in fresh), dtype=np.int64,
                              count=len(fresh))
        cut = np.array(flat, dtype=np.int64).reshape(-1, 2)
        need = self._used + len(cut)
        if need > len(self.starts):  # room doubled: appends cost their own size
            size = max(need, 2 * len(self.starts), 1024)
            self.starts = np.concatenate([self.starts[:self._used],
                                          np.zeros(size - self._used, dtype=np.int64)])
            self.stops = np.concatenate([self.stops[:self._used],
                                         np.zeros(size - self._used, dtype=np.int64)])
        self.starts[self._used:need] = cut[:, 0]
        self.stops[self._used:need] = cut[:, 1]
        self.offsets = np.concatenate([self.offsets, self._used + np.cumsum(lengths)])
        self._used = need
        self._count = len(sets)

    def lengths(self, ids: Ints) -> Ints:
        """How many spans each set of ``ids`` has."""
        out: Ints = self.offsets[ids + 1] - self.offsets[ids]
        return out

    def batches(self, a: Ints, b: Ints) -> Iterator[tuple[int, int]]:
        """Ranges ``[at, to)`` of the pairs ``(a[k], b[k])``, each holding at most
        ``PAIR_BATCH_SPANS`` spans of their sets (or a single pair)."""
        sizes = np.cumsum(self.lengths(a) + self.lengths(b))
        at = 0
        while at < len(a):
            done = int(sizes[at - 1]) if at else 0
            to = int(np.searchsorted(sizes, done + PAIR_BATCH_SPANS, side="right"))
            to = max(at + 1, min(to, len(a)))
            yield at, to
            at = to

    def intersections(self, a: Ints, b: Ints) -> tuple[Ints, Ints, Ints]:
        """The intersections of the pairs ``(a[k], b[k])``: their ranges laid end to end
        (starts, stops, sorted within each pair) and how many each pair has."""
        m = len(a)
        a_at, a_pair = _ranges(self.offsets[a], self.lengths(a))
        b_at, b_pair = _ranges(self.offsets[b], self.lengths(b))
        a_start, a_stop = self.starts[a_at], self.stops[a_at]
        b_start, b_stop = self.starts[b_at], self.stops[b_at]
        # Keyed by pair, the second sets' ranges make two sorted arrays: the run of them that
        # overlaps a range of the first set (same pair) ends before the first start at or
        # past its stop, and begins at the first stop past its start.
        a_base = a_pair * PAIR_KEY
        b_base = b_pair * PAIR_KEY
        first = np.searchsorted(b_base + b_stop, a_base + a_start, side="right")
        last = np.searchsorted(b_base + b_start, a_base + a_stop, side="left")
        count = np.maximum(last - first, 0)
        at_b, at_a = _ranges(first, count)
        starts = np.maximum(a_start[at_a], b_start[at_b])
        stops = np.minimum(a_stop[at_a], b_stop[at_b])
        per_pair = np.bincount(a_pair[at_a], minlength=m).astype(np.int64)
        return starts, stops, per_pair


def decode(key: bytes) -> Spans:
    """The spans of an intersection's ranges as ``grouped`` keys them."""
    ranges = np.frombuffer(key, dtype=np.int32).reshape(-1, 2).tolist()
    out: list[tuple[int, int, int]] = []
    for start, stop in ranges:
        protocol = start // STRIDE
        out.append((protocol, start - protocol * STRIDE, stop - 1 - protocol * STRIDE))
    return tuple(out)


def grouped(starts: Ints, stops: Ints,
            per_pair: Ints) -> Iterator[tuple[Ints, list[bytes], Ints]]:
    """The pairs' intersections, by how many ranges they have: for each count, the pairs
    with it, the distinct intersections as bytes (``decode`` reads them back), and which
    of them each pair has."""
    offsets = np.cumsum(per_pair) - per_pair
    order = np.argsort(per_pair, kind="stable")
    counts = per_pair[order]
    bounds = np.flatnonzero(np.diff(counts, prepend=-1, append=-1))
    for at, to in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        pairs = order[at:to]
        n = int(counts[at])
        where = offsets[pairs][:, None] + np.arange(n, dtype=np.int64)[None, :]
        both = np.empty((len(pairs), n, 2), dtype=np.int32)
        both[:, :, 0] = starts[where]
        both[:, :, 1] = stops[where]
        rows = both.reshape(len(pairs), 2 * n)
        if n == 0:
            yield pairs, [b""], np.zeros(len(pairs), dtype=np.int64)
            continue
        keys = rows.view(np.dtype((np.void, rows.shape[1] * 4))).ravel()
        distinct, inverse = np.unique(keys, return_inverse=True)
        yield pairs, [bytes(k) for k in distinct.tolist()], inverse.ravel().astype(np.int64)
