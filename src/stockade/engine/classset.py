"""Sets of behaviour classes, stored sparsely: the sorted indices of the members, or of the
non-members when those are fewer (``inverted``).

A peer of a NetworkPolicy rule matches a handful of classes of its own namespace, or, through
a namespace selector, a share of the cluster; ``namespaceSelector: {}`` matches almost every
class. As dense boolean vectors, the 100,000 peers of a 150,000-pod cluster over its 50,000
classes would take gigabytes; as index lists they take a few megabytes, and the matrix works
on the members (or the exceptions) only. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
_EMPTY: Indices = np.zeros(0, dtype=np.int32)
_EMPTY.flags.writeable = False


@dataclass(frozen=True, slots=True, eq=False)
class ClassSet:
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
        found = np.unique(np.asarray(members, dtype=np.int32))
        return cls._shortest(size, found, False)

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
        if len(self.indices) == 0:
            return np.full(len(classes), self.inverted, dtype=np.bool_)
        where = np.searchsorted(self.indices, classes)
        hit = self.indices[np.minimum(where, len(self.indices) - 1)] == classes
        result: BoolArray = hit != self.inverted
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
            return ClassSet._shortest(a.size, np.union1d(a.indices, b.indices), False)
        if a.inverted and b.inverted:
            return ClassSet._frozen(a.size, np.intersect1d(a.indices, b.indices,
                                                           assume_unique=True), True)
        listed, excluded = (b, a) if a.inverted else (a, b)
        # Everything but ``excluded``'s exceptions, unless ``listed`` names them.
        return ClassSet._frozen(a.size, np.setdiff1d(excluded.indices, listed.indices,
                                                     assume_unique=True), True)

    def __and__(self, other: ClassSet) -> ClassSet:
        a, b = self, other
        if not a.inverted and not b.inverted:
            return ClassSet._frozen(a.size, np.intersect1d(a.indices, b.indices,
                                                           assume_unique=True), False)
        if a.inverted and b.inverted:
            return ClassSet._shortest(a.size, np.union1d(a.indices, b.indices), True)
        listed, excluded = (b, a) if a.inverted else (a, b)
        return ClassSet._frozen(a.size, np.setdiff1d(listed.indices, excluded.indices,
                                                     assume_unique=True), False)

    def __invert__(self) -> ClassSet:
        return ClassSet(self.size, self.indices, not self.inverted)

    def __sub__(self, other: ClassSet) -> ClassSet:
        return self & ~other


def union_all(size: int, sets: Iterable[ClassSet]) -> ClassSet:
    """The union of many sets at once (one concatenation, not a chain of unions)."""
    listed: list[Indices] = []
    excluded: Indices | None = None
    for s in sets:
        if s.inverted:
            excluded = s.indices if excluded is None else np.intersect1d(
                excluded, s.indices, assume_unique=True)
        else:
            listed.append(s.indices)
    members = np.unique(np.concatenate(listed)) if listed else _EMPTY
    if excluded is None:
        return ClassSet._shortest(size, members, False)
    return ClassSet._frozen(size, np.setdiff1d(excluded, members, assume_unique=True), True)
