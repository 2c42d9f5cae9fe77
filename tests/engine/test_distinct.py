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
