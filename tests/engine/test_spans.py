"""The span algebra against Python sets of (protocol, port) on a small port universe, and
the tier formula against a port-by-port walk of the tiers (adminnetworkpolicy.md §4.6)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.engine.spans import (
    ALL,
    Spans,
    contains,
    first_match,
    intersect,
    merge,
    subtract,
    tiered,
    union,
)
from stockade.model.types import RuleAction

UNIVERSE = [(p, n) for p in range(3) for n in range(1, 41)]


def spans_of(ports: set[tuple[int, int]]) -> Spans:
    return merge((p, n, n) for p, n in ports)


def set_of(spans: Spans) -> set[tuple[int, int]]:
    return {(p, n) for p, n in UNIVERSE if contains(spans, p, n)}


small_spans = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 40), st.integers(0, 8)),
                       max_size=5).map(lambda xs: merge((p, f, min(40, f + w)) for p, f, w in xs))
actions = st.sampled_from(list(RuleAction))


@settings(max_examples=2000)
@given(small_spans, small_spans)
def test_algebra_matches_sets(a: Spans, b: Spans) -> None:
    assert set_of(union(a, b)) == set_of(a) | set_of(b)
    assert set_of(intersect(a, b)) == set_of(a) & set_of(b)
    assert set_of(subtract(a, b)) == set_of(a) - set_of(b)
    assert union(a, b) == spans_of(set_of(a) | set_of(b))  # canonical
    assert intersect(a, b) == spans_of(set_of(a) & set_of(b))


def test_all_and_subtract_at_the_edges() -> None:
    assert subtract(ALL, ALL) == ()
    assert subtract(ALL, ((0, 1, 79),)) == ((0, 80, 65535), ALL[1], ALL[2])
    assert union(ALL, ((0, 5, 6),)) == ALL


def _walk(admin: list[tuple[RuleAction, Spans]], np: Spans | None,
          baseline: list[tuple[RuleAction, Spans]], p: int, n: int) -> bool:
    for action, spans in admin:
        if contains(spans, p, n):
            if action is RuleAction.PASS:
                break
            return action is RuleAction.ACCEPT
    if np is not None:
        return contains(np, p, n)
    for action, spans in baseline:
        if contains(spans, p, n):
            return action is not RuleAction.DENY
    return True


@settings(max_examples=300)
@given(st.lists(st.tuples(actions, small_spans), max_size=4), st.none() | small_spans,
       st.lists(st.tuples(actions, small_spans), max_size=4))
def test_tier_formula_matches_a_walk_port_by_port(
        admin: list[tuple[RuleAction, Spans]], np: Spans | None,
        baseline: list[tuple[RuleAction, Spans]]) -> None:
    got = tiered(first_match(admin), np, first_match(baseline))
    expected = {(p, n) for p, n in UNIVERSE if _walk(admin, np, baseline, p, n)}
    assert set_of(got) == expected
