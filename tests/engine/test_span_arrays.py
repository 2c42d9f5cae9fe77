"""Port sets as arrays of ranges: every pair's intersection, worked out for many pairs at
once, is what the span algebra (``spans.intersect``) says, whatever the order the sets come
in, however many pairs a batch holds, and however the pairs group by their results."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.engine import span_arrays
from stockade.engine.ports import MAX_PORT, MIN_PORT
from stockade.engine.span_arrays import SpanArrays, decode, grouped
from stockade.engine.spans import ALL, NONE, Spans, intersect, merge

ports = st.integers(MIN_PORT, MAX_PORT)
span_sets = st.one_of(
    st.just(ALL), st.just(NONE),
    st.lists(st.tuples(st.integers(0, 2), ports, st.integers(0, 300)), max_size=6).map(
        lambda xs: merge((p, f, min(MAX_PORT, f + w)) for p, f, w in xs)),
    # near the ends of the port range and of each protocol
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from([1, 2, 65534, 65535])),
             max_size=4).map(lambda xs: merge((p, f, f) for p, f in xs)),
    # many small spans: sets that overlap many of another's
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 400)), max_size=40).map(
        lambda xs: merge((p, 100 + 3 * f, 101 + 3 * f) for p, f in xs)),
)


def _intersections(table: SpanArrays, a: list[int], b: list[int]) -> list[Spans]:
    """Every pair's intersection, read back through the groups by batches."""
    left, right = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
    out: list[Spans | None] = [None] * len(a)
    for at, to in table.batches(left, right):
        for pairs, keys, inverse in grouped(*table.intersections(left[at:to], right[at:to])):
            assert len(set(keys)) == len(keys)  # each distinct result once per group
            for pair, k in zip(pairs.tolist(), inverse.tolist(), strict=True):
                assert out[at + pair] is None
                out[at + pair] = decode(keys[k])
    assert all(spans is not None for spans in out)
    return [spans for spans in out if spans is not None]


@settings(max_examples=300, deadline=None)
@given(st.lists(span_sets, min_size=1, max_size=12), st.data(), st.integers(1, 200))
def test_intersections_are_the_span_algebras(sets: list[Spans], data: st.DataObject,
                                             budget: int) -> None:
    table = SpanArrays()
    known: list[Spans] = []
    a: list[int] = []
    b: list[int] = []
    saved = span_arrays.PAIR_BATCH_SPANS
    span_arrays.PAIR_BATCH_SPANS = budget  # a few pairs per batch, or one
    try:
        for spans in sets:  # sets arrive one by one, as the matrix numbers them
            known.append(spans)
            table.extend(known)
            table.extend(known)  # nothing new: nothing added
            a.append(data.draw(st.integers(0, len(known) - 1)))
            b.append(data.draw(st.integers(0, len(known) - 1)))
            assert _intersections(table, a, b) == [
                intersect(known[x], known[y]) for x, y in zip(a, b, strict=True)]
            assert _intersections(table, [len(known) - 1], [0]) == [
                intersect(known[-1], known[0])]
    finally:
        span_arrays.PAIR_BATCH_SPANS = saved
    assert len(table.offsets) == len(known) + 1
    assert table.offsets[-1] == sum(len(s) for s in known)


@pytest.mark.parametrize("budget", [1, 3, 1 << 21])
def test_batches_cover_the_pairs_in_order_within_the_budget(
        budget: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(span_arrays, "PAIR_BATCH_SPANS", budget)
    table = SpanArrays()
    sets = [ALL, NONE, ((0, 80, 80),), merge((0, p, p) for p in range(1, 100, 2))]
    table.extend(sets)
    a = np.array([0, 3, 1, 2, 3, 0], dtype=np.int64)
    b = np.array([3, 3, 2, 0, 1, 0], dtype=np.int64)
    sizes = table.lengths(a) + table.lengths(b)
    batches = list(table.batches(a, b))
    assert [at for at, _ in batches] == [0, *[to for _, to in batches[:-1]]]
    assert batches[-1][1] == len(a)
    for at, to in batches:
        assert to - at == 1 or sizes[at:to].sum() <= budget
