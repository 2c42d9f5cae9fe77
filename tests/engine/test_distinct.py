"""``classset.distinct`` and ``sorted_unique``: ``np.unique`` of 1-d integer arrays, with
the input's dtype kept (``sorted_unique``: int32), for every size including the empty."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from stockade.engine.classset import distinct, sorted_unique

_DTYPES = st.sampled_from([np.int32, np.int64, np.uint64])


@given(st.data())
def test_distinct_is_np_unique(data: st.DataObject) -> None:
    dtype = data.draw(_DTYPES)
    values = data.draw(hnp.arrays(dtype, st.integers(0, 60),
                                  elements=st.integers(0, 20) | st.integers(0, 2**31 - 1)))
    before = values.copy()
    got = distinct(values)
    assert got.dtype == values.dtype
    assert np.array_equal(got, np.unique(values))
    assert np.array_equal(values, before)  # the input is left alone


@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=40))
def test_sorted_unique_is_np_unique_as_int32(values: list[int]) -> None:
    got = sorted_unique(np.array(values, dtype=np.int64))
    assert got.dtype == np.int32
    assert got.tolist() == sorted(set(values))


def _unique_as_bytes(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What ``PairSets._distinct`` gave before it sorted word by word: ``np.unique`` of the
    rows viewed as bytes."""
    void = np.ascontiguousarray(rows).view(np.dtype((np.void, 8 * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(void, return_index=True, return_inverse=True)
    return first, inverse.ravel()


_WORDS = st.integers(0, 2**64 - 1) | st.integers(0, 40) | st.sampled_from(
    [1 << 63, (1 << 63) | 1, 1 << 8, 1 << 56, 255, 256, 2**64 - 1])


@given(st.data())
def test_distinct_rows_are_np_unique_of_the_rows_as_bytes(data: st.DataObject) -> None:
    """Rows of several 64-bit words: the same first indices and numbers, in the same order,
    as ``np.unique`` over the rows as bytes (repeated rows drawn from a small pool)."""
    from stockade.engine.matrix import PairSets

    width = data.draw(st.integers(2, 4))
    pool = data.draw(st.lists(st.lists(_WORDS, min_size=width, max_size=width),
                              min_size=1, max_size=12))
    picks = data.draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=80))
    rows = np.array([pool[k] for k in picks], dtype=np.uint64)
    first, inverse = PairSets.distinct_rows(rows)
    want_first, want_inverse = _unique_as_bytes(rows)
    assert first.tolist() == want_first.tolist()
    assert inverse.tolist() == want_inverse.tolist()
