"""Sets of behaviour classes, stored sparsely: the sorted indices of the members, or of the
non-members when those are fewer (``inverted``).

A peer of a NetworkPolicy rule matches a handful of classes of its own namespace, or, through
a namespace selector, a share of the cluster; ``namespaceSelector: {}`` matches almost every
class. As dense boolean vectors, the 100,000 peers of a 150,000-pod cluster over its 50,000
classes would take gigabytes; as index lists they take a few megabytes, and the matrix works
on the members (or the exceptions) only. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
IntT = TypeVar("IntT", bound=np.integer[Any])
_EMPTY: Indices = np.zeros(0, dtype=np.int32)
_EMPTY.flags.writeable = False


def sorted_unique(values: npt.NDArray[np.integer]) -> Indices:
    """Sorted, without repeats (``np.unique`` costs tens of microseconds per call on the
    small arrays that most sets are)."""
    return distinct(np.asarray(values, dtype=np.int32))


def distinct(values: npt.NDArray[IntT]) -> npt.NDArray[IntT]:
    """``np.unique(values)`` of a 1-d integer array, faster on small arrays, and without
    ``np.unique``'s first-call import of ``numpy.ma`` (6 ms of a small run)."""
    out = np.sort(values)
    if len(out) > 1:
        keep = np.empty(len(out), dtype=np.bool_)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out


def _isin(values: Indices, sorted_set: Indices) -> BoolArray:
    """Which of ``values`` are in ``sorted_set`` (binary search: fast on sorted lists)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=np.bool_)
    where = np.searchsorted(sorted_set, values)
    found: BoolArray = sorted_set[np.minimum(where, len(sorted_set) - 1)] == values
    return found


MARK_SHARE = 16  # members of a union past 1/16 of the classes: marked, not sorted


def _merged(size: int, parts: Sequence[Indices]) -> Indices:
    """The sorted union of index lists of classes ``0 .. size-1``: many members are marked
    in a mask of every class and read back in order (a pass over the classes costs less
    than sorting them), few are sorted."""
    if sum(map(len, parts)) * MARK_SHARE <= size:
        return sorted_unique(np.concatenate(parts))
    mask = np.zeros(size, dtype=np.bool_)
    for part in parts:
        mask[part] = True
    return np.flatnonzero(mask).astype(np.int32)


def _union(size: int, a: Indices, b: Indices) -> Indices:
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    return _merged(size, [a, b])


def _intersection(a: Indices, b: Indices) -> Indices:
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    return small[_isin(small, big)]


def _difference(a: Indices, b: Indices) -> Indices:
    if len(a) == 0 or len(b) == 0:
        return a
    return a[~_isin(a, b)]


class ClassSet(msgspec.Struct, frozen=True, eq=False):
    """Classes ``0 .. size-1``: ``indices`` are the members, or with ``inverted`` the classes
    that are not members. Immutable; compare with ``same``."""

    size: int
    indices: Indices
    inverted: bool = False

    # --- making ------------------------------------------------------------------------------

    @classmethod
    def empty(cls, size: int) -> ClassSet:
        return cls(size, _EMPTY)

    @classmethod
    def full(cls, size: int) -> ClassSet:
        return cls(size, _EMPTY, True)

    @classmethod
    def of(cls, size: int, members: Iterable[int] | npt.NDArray[np.integer]) -> ClassSet:
        """From member indices in any order, repeats allowed."""
        return cls._shortest(size, sorted_unique(np.asarray(members, dtype=np.int32)), False)

    @classmethod
    def of_sorted(cls, size: int, members: list[int]) -> ClassSet:
        """``of`` members already ascending and without repeats (not sorted again)."""
        return cls._shortest(size, np.array(members, dtype=np.int32), False)

    @classmethod
    def of_mask(cls, mask: BoolArray) -> ClassSet:
        size = len(mask)
        members = int(np.count_nonzero(mask))
        if members * 2 <= size:
            return cls._frozen(size, np.flatnonzero(mask), False)
        return cls._frozen(size, np.flatnonzero(~mask), True)

    @classmethod
    def _shortest(cls, size: int, indices: Indices, inverted: bool) -> ClassSet:
        """The same set, written with whichever list is shorter."""
        if len(indices) * 2 > size:
            keep = np.ones(size, dtype=np.bool_)
            keep[indices] = False
            return cls._frozen(size, np.flatnonzero(keep), not inverted)
        return cls._frozen(size, indices, inverted)

    @classmethod
    def _frozen(cls, size: int, indices: npt.NDArray[np.integer], inverted: bool) -> ClassSet:
        if len(indices) == 0:
            return cls(size, _EMPTY, inverted)
        out = np.asarray(indices, dtype=np.int32)
        out.flags.writeable = False
        return cls(size, out, inverted)

    # --- reading -----------------------------------------------------------------------------

    def __contains__(self, cls: object) -> bool:
        if not isinstance(cls, int | np.integer):
            return False
        at = int(np.searchsorted(self.indices, cls))
        listed = at < len(self.indices) and int(self.indices[at]) == int(cls)
        return listed != self.inverted

    def __len__(self) -> int:
        return self.size - len(self.indices) if self.inverted else len(self.indices)

    def __bool__(self) -> bool:
        return len(self) > 0

    def members(self) -> Indices:
        """The members, sorted."""
        if not self.inverted:
            return self.indices
        return self.dense().nonzero()[0].astype(np.int32)

    def dense(self) -> BoolArray:
        """A boolean vector over all classes (a new array)."""
        out = np.full(self.size, self.inverted, dtype=np.bool_)
        out[self.indices] = not self.inverted
        return out

    def at(self, classes: npt.NDArray[np.integer]) -> BoolArray:
        """Membership of each of ``classes`` (sorted or not)."""
        result: BoolArray = _isin(np.asarray(classes), self.indices) != self.inverted
        return result

    def same(self, other: ClassSet) -> bool:
        return (self.size == other.size and self.inverted == other.inverted
                and np.array_equal(self.indices, other.indices))

    def key(self) -> tuple[bool, bytes]:
        """A hashable value equal for equal sets."""
        return self.inverted, self.indices.tobytes()

    # --- combining ---------------------------------------------------------------------------

    def __or__(self, other: ClassSet) -> ClassSet:
        a, b = self, other
        if not a.inverted and not b.inverted:
            return ClassSet._shortest(a.size, _union(a.size, a.indices, b.indices), False)
        if a.inverted and b.inverted:
            return ClassSet._frozen(a.size, _intersection(a.indices, b.indices), True)
        listed, excluded = (b, a) if a.inverted else (a, b)
        # Everything but ``excluded``'s exceptions, unless ``listed`` names them.
        return ClassSet._frozen(a.size, _difference(excluded.indices, listed.indices), True)

    def __and__(self, other: ClassSet) -> ClassSet:
        a, b = self, other
        if not a.inverted and not b.inverted:
            return ClassSet._frozen(a.size, _intersection(a.indices, b.indices), False)
        if a.inverted and b.inverted:
            return ClassSet._shortest(a.size, _union(a.size, a.indices, b.indices), True)
        listed, excluded = (b, a) if a.inverted else (a, b)
        return ClassSet._frozen(a.size, _difference(listed.indices, excluded.indices), False)

    def __invert__(self) -> ClassSet:
        return ClassSet(self.size, self.indices, not self.inverted)

    def __sub__(self, other: ClassSet) -> ClassSet:
        return self & ~other


def union_all(size: int, sets: Sequence[ClassSet]) -> ClassSet:
    """The union of many sets at once (one concatenation, not a chain of unions)."""
    if len(sets) == 1 and (sets[0].inverted or len(sets[0].indices) * 2 <= size):
        return sets[0]  # written as the union would write it: itself
    listed: list[Indices] = []
    excluded: Indices | None = None
    for s in sets:
        if s.inverted:
            excluded = s.indices if excluded is None else _intersection(excluded, s.indices)
        else:
            listed.append(s.indices)
    members = _merged(size, listed) if listed else _EMPTY
    if excluded is None:
        return ClassSet._shortest(size, members, False)
    return ClassSet._frozen(size, _difference(excluded, members), True)
