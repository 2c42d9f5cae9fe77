"""Interval arithmetic for interval-set elements: CIDR differences and disjoint rectangles.

nftables refuses overlapping elements in a concatenated interval set, while the union of a
pod's allow rules overlaps freely (two rules allowing 10.0.0.0/8 and 10.1.0.0/16, ports
80-90 and 85). This module turns such a union into disjoint (address range, port range)
rectangles, so the set holds exactly the allowed traffic. Pure.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from stockade.model.netparse import IPNetwork

Range = tuple[int, int]  # inclusive first, last


def network_range(network: IPNetwork) -> Range:
    return int(network.network_address), int(network.broadcast_address)


def subtract(base: Range, holes: Iterable[Range]) -> list[Range]:
    """``base`` minus every hole: the ipBlock ``cidr`` minus its ``except`` entries."""
    result: list[Range] = []
    start, end = base
    for lo, hi in sorted(holes):
        if hi < start or lo > end:
            continue
        if lo > start:
            result.append((start, lo - 1))
        start = max(start, hi + 1)
        if start > end:
            return result
    result.append((start, end))
    return result


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Sorted, disjoint, non-adjacent ranges covering the same values."""
    merged: list[Range] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def disjoint_rectangles(rects: Sequence[tuple[Range, Range]]) -> list[tuple[Range, Range]]:
    """The union of (address range, port range) rectangles as disjoint rectangles."""
    return [(addresses, ports) for addresses, union in disjoint_strips(rects)
            for ports in union]


def disjoint_strips(rects: Sequence[tuple[Range, Range]]) -> list[tuple[Range, list[Range]]]:
    """The union of (address range, port range) rectangles as strips: maximal address
    ranges over which the allowed ports are the same, with those ports (merged ranges).

    A sweep over the address axis: between two consecutive boundaries the covering port
    ranges are constant, so each elementary address interval gets the merged union of the
    active port ranges; neighbouring intervals with equal unions are joined again so that a
    rule over a /8 stays one element. The strips depend only on which (address, port)
    points are covered, not on how the rectangles cut them.
    """
    events: list[tuple[int, int, Range]] = []
    for (alo, ahi), ports in rects:
        events.append((alo, 1, ports))
        events.append((ahi + 1, -1, ports))
    events.sort(key=lambda e: e[0])
    active: Counter[Range] = Counter()
    strips: list[tuple[Range, list[Range]]] = []
    i = 0
    while i < len(events):
        position = events[i][0]
        while i < len(events) and events[i][0] == position:
            _, delta, ports = events[i]
            active[ports] += delta
            if not active[ports]:
                del active[ports]
            i += 1
        if not active or i == len(events):
            continue
        next_position = events[i][0]
        union = merge(active)
        if strips and strips[-1][0][1] + 1 == position and strips[-1][1] == union:
            strips[-1] = ((strips[-1][0][0], next_position - 1), union)
        else:
            strips.append(((position, next_position - 1), union))
    return strips


def first_match_rectangles(
    rects: Sequence[tuple[int, str, tuple[Range, Range]]],
) -> list[tuple[Range, Range, str]]:
    """Ordered rules' rectangles as disjoint rectangles labelled by the first rule covering
    them (see ``first_match_strips``)."""
    return [(addresses, ports, label) for addresses, pieces in first_match_strips(rects)
            for ports, label in pieces]


def first_match_strips(
    rects: Sequence[tuple[int, str, tuple[Range, Range]]],
) -> list[tuple[Range, list[tuple[Range, str]]]]:
    """Ordered rules' rectangles as strips: maximal address ranges over which the same
    ports get the same labels, with those (port range, label) pieces:
    ``(rank, label, (address range, port range))`` in, lowest rank winning.

    What a first-match walk over the rules decides for any (address, port), as one set of
    non-overlapping interval elements (a verdict map) instead of one lookup per rule. The
    same sweep as ``disjoint_rectangles``: per elementary address strip, each active
    rectangle keeps the ports no lower-ranked active rectangle took.
    """
    events: list[tuple[int, int, int, str, Range]] = []
    for rank, label, ((alo, ahi), ports) in rects:
        events.append((alo, 1, rank, label, ports))
        events.append((ahi + 1, -1, rank, label, ports))
    events.sort(key=lambda e: e[0])
    active: Counter[tuple[int, str, Range]] = Counter()
    strips: list[tuple[Range, list[tuple[Range, str]]]] = []
    i = 0
    while i < len(events):
        position = events[i][0]
        while i < len(events) and events[i][0] == position:
            _, delta, rank, label, ports = events[i]
            active[rank, label, ports] += delta
            if not active[rank, label, ports]:
                del active[rank, label, ports]
            i += 1
        if not active or i == len(events):
            continue
        next_position = events[i][0]
        taken: list[Range] = []
        pieces: list[tuple[Range, str]] = []
        for _, label, ports in sorted(active):
            for piece in subtract(ports, taken):
                pieces.append((piece, label))
            taken = merge([*taken, ports])
        pieces.sort()
        joined: list[tuple[Range, str]] = []
        for (lo, hi), label in pieces:  # neighbouring ports of one label are one element
            if joined and joined[-1][1] == label and joined[-1][0][1] + 1 == lo:
                joined[-1] = ((joined[-1][0][0], hi), label)
            else:
                joined.append(((lo, hi), label))
        if strips and strips[-1][0][1] + 1 == position and strips[-1][1] == joined:
            strips[-1] = ((strips[-1][0][0], next_position - 1), joined)
        else:
            strips.append(((position, next_position - 1), joined))
    return strips


V = TypeVar("V")


class Runs(Generic[V]):
    """Strips (maximal address ranges of one equal value, sorted, none empty) that change
    one address at a time: what a pod appearing, leaving or changing does to a set.

    ``set_point`` keeps the strips exactly as a sweep over the new content would give them,
    so a set kept this way never drifts from one compiled anew."""

    def __init__(self, strips: Iterable[tuple[Range, V]] = ()) -> None:
        self._lo: list[int] = []
        self._hi: list[int] = []
        self._value: list[V] = []
        for (lo, hi), value in strips:
            self._lo.append(lo)
            self._hi.append(hi)
            self._value.append(value)

    def __iter__(self) -> Iterator[tuple[Range, V]]:
        return iter(zip(zip(self._lo, self._hi, strict=True), self._value, strict=True))

    def __len__(self) -> int:
        return len(self._lo)

    def _index(self, address: int) -> int | None:
        i = bisect.bisect_right(self._lo, address) - 1
        return i if i >= 0 and self._hi[i] >= address else None

    def value_at(self, address: int) -> V | None:
        i = self._index(address)
        return None if i is None else self._value[i]

    def set_point(self, address: int, value: V | None) -> tuple[list[tuple[Range, V]],
                                                                list[tuple[Range, V]]]:
        """Give ``address`` ``value`` (``None``: nothing); the strips removed and added."""
        hits = [i for i in (self._index(address - 1), self._index(address),
                            self._index(address + 1)) if i is not None]
        if not hits:
            if value is None:
                return [], []
            at = bisect.bisect_right(self._lo, address)
            first, last = at, at - 1
        else:
            first, last = min(hits), max(hits)
        old = [((self._lo[i], self._hi[i]), self._value[i]) for i in range(first, last + 1)]
        pieces: list[tuple[Range, V]] = []
        for (lo, hi), v in old:
            if lo < address:
                pieces.append(((lo, min(hi, address - 1)), v))
            if hi > address:
                pieces.append(((max(lo, address + 1), hi), v))
        if value is not None:
            pieces.append(((address, address), value))
        pieces.sort(key=lambda p: p[0][0])
        new: list[tuple[Range, V]] = []
        for (lo, hi), v in pieces:
            if new and new[-1][0][1] + 1 == lo and new[-1][1] == v:
                new[-1] = ((new[-1][0][0], hi), v)
            else:
                new.append(((lo, hi), v))
        self._lo[first:last + 1] = [lo for (lo, _), _ in new]
        self._hi[first:last + 1] = [hi for (_, hi), _ in new]
        self._value[first:last + 1] = [v for _, v in new]
        removed = [s for s in old if s not in new]
        added = [s for s in new if s not in old]
        return removed, added
