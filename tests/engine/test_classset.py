"""``ClassSet`` against Python's sets: unions (pairwise and ``union_all``), intersections,
differences and complements, over sizes and member counts that take both ways of merging
index lists (sorted when few, marked in a mask of every class when many: ``MARK_SHARE``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from stockade.engine.classset import MARK_SHARE, ClassSet, _merged, union_all


@st.composite
def _sets(draw: st.DrawFn, size: int) -> tuple[ClassSet, set[int]]:
    members = draw(st.sets(st.integers(0, size - 1), max_size=size))
    made = ClassSet.of(size, sorted(members))
    if draw(st.booleans()):  # the complement of a set, written as its exceptions
        made, members = ~made, set(range(size)) - members
    return made, members


def _members(made: ClassSet) -> set[int]:
    assert made.indices.dtype == np.int32
    assert list(made.indices) == sorted(set(made.indices.tolist()))  # sorted, no repeats
    return set(made.members().tolist())


@given(st.data())
def test_combinations_are_those_of_python_sets(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 400))
    (a, sa), (b, sb) = data.draw(_sets(size)), data.draw(_sets(size))
    assert _members(a | b) == sa | sb
    assert _members(a & b) == sa & sb
    assert _members(a - b) == sa - sb
    assert _members(~a) == set(range(size)) - sa


@given(st.data())
def test_union_all_is_the_union_of_every_set(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 400))
    drawn = data.draw(st.lists(_sets(size), max_size=5))
    union = union_all(size, [made for made, _ in drawn])
    assert _members(union) == set().union(*(members for _, members in drawn))


@given(st.integers(1, 2_000), st.data())
def test_both_ways_of_merging_give_the_sorted_union(size: int, data: st.DataObject) -> None:
    parts = data.draw(st.lists(st.sets(st.integers(0, size - 1), max_size=200), max_size=4))
    arrays = [np.array(sorted(p), dtype=np.int32) for p in parts]
    expected = sorted(set().union(*parts))
    merged = _merged(size, arrays) if arrays else np.zeros(0, dtype=np.int32)
    assert merged.dtype == np.int32
    assert merged.tolist() == expected


def test_merging_on_both_sides_of_the_threshold() -> None:
    """Just below ``MARK_SHARE``'s threshold (sorted) and well above it (marked); the
    property above draws sizes and members on both sides of it too."""
    size = 1_600
    few = [np.arange(0, size // MARK_SHARE - 1, dtype=np.int32)]
    many = [np.arange(0, size, 2, dtype=np.int32), np.arange(1, 40, 2, dtype=np.int32)]
    assert _merged(size, few).tolist() == few[0].tolist()
    assert _merged(size, many).tolist() == sorted({*range(0, size, 2), *range(1, 40, 2)})
