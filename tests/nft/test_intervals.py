"""Interval arithmetic: CIDR differences and disjoint rectangles, checked by brute force."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.nft.intervals import (
    Range,
    Runs,
    disjoint_rectangles,
    disjoint_strips,
    first_match_rectangles,
    merge,
    network_range,
    subtract,
)


def test_subtract_is_the_cidr_difference() -> None:
    base = IPv4Network("10.0.0.0/24")
    holes = [IPv4Network("10.0.0.0/26"), IPv4Network("10.0.0.128/25")]
    got = subtract(network_range(base), [network_range(h) for h in holes])
    expected = [network_range(n) for h in [holes[0]] for n in base.address_exclude(h)
                if not n.overlaps(holes[1])]
    assert merge(got) == merge(expected) == [(int(IPv4Network("10.0.0.64/26").network_address),
                                              int(IPv4Network("10.0.0.64/26")
                                                  .broadcast_address))]


def test_subtract_everything_leaves_nothing() -> None:
    assert subtract((0, 255), [(0, 255)]) == []
    assert subtract((10, 20), [(0, 5), (30, 40)]) == [(10, 20)]


ranges = st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda t: (min(t), max(t)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ranges, ranges), max_size=6))
def test_disjoint_rectangles_cover_exactly_the_union(rects: list[tuple[Range, Range]]) -> None:
    out = disjoint_rectangles(rects)
    for a in range(32):
        for p in range(32):
            inside = any(alo <= a <= ahi and plo <= p <= phi for (alo, ahi), (plo, phi) in rects)
            hits = sum(alo <= a <= ahi and plo <= p <= phi for (alo, ahi), (plo, phi) in out)
            assert hits == (1 if inside else 0), (a, p)


@given(st.lists(ranges, max_size=8))
def test_merge_is_disjoint_and_equal(values: list[Range]) -> None:
    out = merge(values)
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(out))
    covered = {v for lo, hi in values for v in range(lo, hi + 1)}
    assert covered == {v for lo, hi in out for v in range(lo, hi + 1)}


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 6), st.integers(0, 20),
                          st.integers(0, 6), st.sampled_from(("accept", "drop", "pass"))),
                max_size=6))
def test_first_match_rectangles_decide_as_a_walk_would(
        raw: list[tuple[int, int, int, int, str]]) -> None:
    rects = [(rank, label, ((a, a + aw), (p, p + pw)))
             for rank, (a, aw, p, pw, label) in enumerate(raw)]
    got = first_match_rectangles(rects)
    cells: dict[tuple[int, int], str] = {}
    for (alo, ahi), (plo, phi), label in got:
        for addr in range(alo, ahi + 1):
            for port in range(plo, phi + 1):
                assert (addr, port) not in cells  # disjoint
                cells[addr, port] = label
    for addr in range(0, 30):
        for port in range(0, 30):
            first = next((label for _, label, ((alo, ahi), (plo, phi)) in rects
                          if alo <= addr <= ahi and plo <= port <= phi), None)
            assert cells.get((addr, port)) == first


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.one_of(
    st.none(), st.sampled_from([((80, 80),), ((1, 65535),), ((53, 53), (80, 90))])))))
def test_runs_changed_point_by_point_equal_the_sweep(
        changes: list[tuple[int, tuple[tuple[int, int], ...] | None]]) -> None:
    """Runs changed one address at a time are always the strips a sweep over the content
    gives, and the strips removed and added turn the old strips into the new."""
    content: dict[int, tuple[tuple[int, int], ...]] = {}
    runs: Runs[tuple[tuple[int, int], ...]] = Runs()
    for address, value in changes:
        before = set(runs)
        removed, added = runs.set_point(address, value)
        if value is None:
            content.pop(address, None)
        else:
            content[address] = value
        rects = [((a, a), p) for a, ports in content.items() for p in ports]
        assert list(runs) == [(r, tuple(p)) for r, p in disjoint_strips(rects)]
        assert (before - set(removed)) | set(added) == set(runs)
