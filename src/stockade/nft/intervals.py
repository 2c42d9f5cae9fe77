"""Interval arithmetic for interval-set elements: CIDR differences and disjoint rectangles.

nftables refuses overlapping elements in a concatenated interval set, while the union of a
pod's allow rules overlaps freely (two rules allowing 10.0.0.0/8 and 10.1.0.0/16, ports
80-90 and 85). This module turns such a union into disjoint (address range, port range)
rectangles, so the set holds exactly the allowed traffic. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

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
    """The union of (address range, port range) rectangles as disjoint rectangles.

    A sweep over the address axis: between two consecutive boundaries the covering port
    ranges are constant, so each elementary address interval gets the merged union of the
    active port ranges; neighbouring intervals with equal unions are joined again so that a
    rule over a /8 stays one element.
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
    return [(addresses, ports) for addresses, union in strips for ports in union]


def first_match_rectangles(
    rects: Sequence[tuple[int, str, tuple[Range, Range]]],
) -> list[tuple[Range, Range, str]]:
    """Ordered rules' rectangles as disjoint rectangles labelled by the first rule covering
    them: ``(rank, label, (address range, port range))`` in, lowest rank winning.

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
    return [(addresses, ports, label) for addresses, pieces in strips
            for ports, label in pieces]
