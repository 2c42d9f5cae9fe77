"""Port sets as rows of segment bits: every intersection decodes to what the span algebra
says, whatever the order the sets come in and however often the segments are cut again."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.engine import segments
from stockade.engine.ports import MAX_PORT, MIN_PORT
from stockade.engine.segments import Segments
from stockade.engine.spans import ALL, NONE, Spans, intersect, merge

ports = st.integers(MIN_PORT, MAX_PORT)
span_sets = st.one_of(
    st.just(ALL), st.just(NONE),
    st.lists(st.tuples(st.integers(0, 2), ports, st.integers(0, 300)), max_size=6).map(
        lambda xs: merge((p, f, min(MAX_PORT, f + w)) for p, f, w in xs)),
    # near the ends of the port range and of each protocol
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from([1, 2, 65534, 65535])),
             max_size=4).map(lambda xs: merge((p, f, f) for p, f in xs)),
)


@settings(max_examples=300)
@given(st.lists(span_sets, min_size=1, max_size=12), st.data())
def test_rows_intersect_as_the_spans_do(sets: list[Spans], data: st.DataObject) -> None:
    segments = Segments()
    known: list[Spans] = []
    for spans in sets:  # sets arrive one by one, as the matrix numbers them
        known.append(spans)
        rows = segments.rows(known)
        a = data.draw(st.integers(0, len(known) - 1))
        b = data.draw(st.integers(0, len(known) - 1))
        both = (rows[a] & rows[b]).tobytes()
        assert segments.spans(both) == intersect(known[a], known[b])
        assert segments.spans(rows[a].tobytes()) == known[a]


@settings(max_examples=200)
@given(st.lists(span_sets, min_size=1, max_size=12), st.integers(1, 40))
def test_rows_encoded_a_few_sets_at_a_time_equal_rows_encoded_at_once(
        sets: list[Spans], batch_bytes: int) -> None:
    whole = Segments().rows(sets)
    saved = segments.ENCODE_BATCH_BYTES
    segments.ENCODE_BATCH_BYTES = batch_bytes  # rows of up to a few sets per batch
    try:
        batched = Segments().rows(sets)
    finally:
        segments.ENCODE_BATCH_BYTES = saved
    assert batched.shape == whole.shape and (batched == whole).all()
