"""Sets of (protocol, port) as sorted, merged spans, and the algebra on them.

A set is a tuple of ``(protocol index, first, last)`` triples, sorted, with overlapping and
adjacent spans of one protocol merged, so that equal sets are equal tuples (and can key a
dict). The matrix works on these: a NetworkPolicy side is a union of rule port sets, a tier
of cluster-wide policies is a first-match partition of them. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stockade.engine.ports import MAX_PORT, MIN_PORT, PROTOCOLS
from stockade.model.types import RuleAction

Spans = tuple[tuple[int, int, int], ...]
ALL: Spans = tuple((p, MIN_PORT, MAX_PORT) for p in range(len(PROTOCOLS)))
NONE: Spans = ()


def merge(spans: Iterable[tuple[int, int, int]]) -> Spans:
    """The canonical form of any collection of spans."""
    out: list[tuple[int, int, int]] = []
    for proto, first, last in sorted(spans):
        if out and out[-1][0] == proto and first <= out[-1][2] + 1:
            out[-1] = (proto, out[-1][1], max(out[-1][2], last))
        else:
            out.append((proto, first, last))
    return tuple(out)


def union(a: Spans, b: Spans) -> Spans:
    if ALL in (a, b):
        return ALL
    return merge((*a, *b))


def intersect(a: Spans, b: Spans) -> Spans:
    """One sweep over both sorted sets. The overlaps come out sorted, and no two touch:
    consecutive spans of a set leave a gap, so the result is canonical without a merge."""
    if a in (ALL, b):
        return b
    if b == ALL:
        return a
    out: list[tuple[int, int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        pa, fa, la = a[i]
        pb, fb, lb = b[j]
        if pa != pb:
            if pa < pb:
                i += 1
            else:
                j += 1
            continue
        first, last = max(fa, fb), min(la, lb)
        if first <= last:
            out.append((pa, first, last))
        if la < lb:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: Spans, b: Spans) -> Spans:
    """Everything of ``a`` that is not in ``b``."""
    if not b:
        return a
    out: list[tuple[int, int, int]] = []
    for proto, first, last in a:
        start = first
        for q, lo, hi in b:
            if q != proto or hi < start or lo > last:
                continue
            if lo > start:
                out.append((proto, start, lo - 1))
            start = max(start, hi + 1)
            if start > last:
                break
        if start <= last:
            out.append((proto, start, last))
    return merge(out)


def contains(spans: Spans, protocol: int, port: int) -> bool:
    return any(p == protocol and first <= port <= last for p, first, last in spans)


def first_match(rules: Sequence[tuple[RuleAction, Spans]]) -> tuple[Spans, Spans]:
    """The ports an ordered list of matching rules accepts and the ports it decides
    (accepts or denies), first match winning per port; a ``Pass`` decides nothing in its
    tier, but ports it covers are taken away from the rules after it."""
    accepted: Spans = NONE
    decided: Spans = NONE
    covered: Spans = NONE
    for action, spans in rules:
        fresh = subtract(spans, covered)
        if action is RuleAction.ACCEPT:
            accepted = union(accepted, fresh)
        if action is not RuleAction.PASS:
            decided = union(decided, fresh)
        covered = union(covered, spans)
        if covered == ALL:
            break
    return accepted, decided


def tiered(admin: tuple[Spans, Spans], networkpolicy: Spans | None,
           baseline: tuple[Spans, Spans]) -> Spans:
    """One direction's allowed ports: the Admin tier's accepted ports, and of the ports it
    left undecided those that the NetworkPolicy tier allows when NetworkPolicy isolates
    the pod (``networkpolicy`` not None), else those the Baseline tier does not deny."""
    admin_accepted, admin_decided = admin
    rest = subtract(ALL, admin_decided)
    if networkpolicy is not None:
        below = networkpolicy
    else:
        baseline_accepted, baseline_decided = baseline
        below = subtract(ALL, subtract(baseline_decided, baseline_accepted))
    return union(admin_accepted, intersect(rest, below))
