"""``cluster-priority-overlap``: two cluster-wide policies of one tier at one priority whose
rules overlap.

Upstream leaves the order of such policies to the implementation (stockade orders them by
name, then kind: see the README), so where their rules meet the same traffic the outcome
may differ between network plugins. Two policies overlap when some pod both select meets,
in one direction, a peer and a port that a rule of each matches: peers as the engine
compiles them (classes, and for egress the address regions of ``networks`` and node
addresses), ports resolved on the destination (the selected pod for ingress, the peer for
egress; named ports match nothing towards an address).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stockade.engine.engine import EGRESS, INGRESS
from stockade.engine.matrix import Spans, _intersect
from stockade.engine.tiers import CompiledClusterRule, tier_key
from stockade.lint.context import BoolArray, LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.model.types import ClusterNetworkPolicy, PolicyType, Tier

CHECK_IDS = frozenset({"cluster-priority-overlap"})


class _Overlaps:
    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.keys = ctx.pair_sets
        self._spans: dict[tuple[int, int | None], Spans] = {}

    def spans(self, rule: CompiledClusterRule, destination: int | None) -> Spans:
        """A rule's ports towards a class (one per named-port signature) or an address."""
        sig = None if destination is None else int(self.keys.named[destination])
        key = (id(rule), sig)
        found = self._spans.get(key)
        if found is None:
            found = self._spans[key] = self.keys.rule_spans(rule, destination)
        return found

    def _ports_meet(self, a: CompiledClusterRule, b: CompiledClusterRule,
                    destinations: BoolArray | None) -> bool:
        """Whether the two rules share a port towards some destination class (``None``:
        towards an address outside the pods)."""
        if destinations is None:
            return bool(_intersect(self.spans(a, None), self.spans(b, None)))
        signatures: dict[int, int] = {}
        for c in np.flatnonzero(destinations):
            signatures.setdefault(int(self.keys.named[c]), int(c))
        return any(_intersect(self.spans(a, c), self.spans(b, c))
                   for c in signatures.values())

    def meet(self, a: CompiledClusterRule, b: CompiledClusterRule, direction: PolicyType,
             subjects: BoolArray) -> bool:
        """Whether rules ``a`` and ``b`` match one connection of a pod of ``subjects``."""
        populated = self.ctx.populated_classes(stand_ins=True)
        peers = np.zeros(len(subjects), dtype=np.bool_)
        for family in (4, 6):
            peers |= a.peer_classes(family) & b.peer_classes(family)
        peers &= populated
        if peers.any():
            # Ingress: ports resolve on the subject; egress: on the peer.
            where = subjects if direction is INGRESS else peers
            if self._ports_meet(a, b, where):
                return True
        if direction is EGRESS:
            rows = self.ctx.rows
            for family in (4, 6):
                outside = rows.rule_regions(a, family) & rows.rule_regions(b, family)
                if outside.any() and self._ports_meet(a, b, None):
                    return True
        return False


def _first_meeting(overlaps: _Overlaps, first: int, second: int,
                   subjects: BoolArray) -> tuple[PolicyType, CompiledClusterRule,
                                                 CompiledClusterRule] | None:
    compiled = overlaps.ctx.engine.tiers.compiled
    for direction in (INGRESS, EGRESS):
        for a in compiled[first].rules[direction]:
            for b in compiled[second].rules[direction]:
                if overlaps.meet(a, b, direction, subjects):
                    return direction, a, b
    return None


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    if "cluster-priority-overlap" not in enabled:
        return
    engine = ctx.engine
    policies = engine.cluster_policies
    by_priority: dict[tuple[Tier, int], list[int]] = {}
    for k, policy in enumerate(policies):
        if policy.has_priority:
            by_priority.setdefault((policy.tier, policy.priority), []).append(k)
    overlaps = _Overlaps(ctx)
    compiled = engine.tiers.compiled
    for members in by_priority.values():
        members.sort(key=lambda k: tier_key(policies[k]))
        for i, first in enumerate(members):
            for second in members[i + 1:]:
                both = compiled[first].subjects & compiled[second].subjects
                pods = ctx.members(both)
                if not pods:
                    continue
                found = _first_meeting(overlaps, first, second, both)
                if found is None:
                    continue
                yield _finding(ctx, (policies[first], policies[second]), found, pods)


def _finding(ctx: LintContext, pair: tuple[ClusterNetworkPolicy, ClusterNetworkPolicy],
             found: tuple[PolicyType, CompiledClusterRule, CompiledClusterRule],
             pods: list[int]) -> LintFinding:
    first, second = pair
    tier, priority = first.tier, first.priority
    direction, a, b = found
    word = "ingress" if direction is INGRESS else "egress"
    names = ctx.names(pods)
    if a.action == b.action:
        stakes = (f"both {_action(a)}: the verdict is the same either way, the rule "
                  "that decides is not")
    else:
        stakes = (f"{_action(a)} against {_action(b)}: the verdict depends on "
                  "which goes first")
    return ctx.finding(
        "cluster-priority-overlap", second, "spec.priority",
        f"{first.key} has the same priority ({priority}) in the {tier.value} tier and both "
        f"select {listing(names)}; its {word}[{a.index}] and this policy's "
        f"{word}[{b.index}] match the same traffic ({stakes}). Upstream leaves the order "
        f"to the network plugin; stockade evaluates {first.key} first (by name)",
        "give one of them another priority", related=names)


def _action(rule: CompiledClusterRule) -> str:
    """The action as the policy writes it (v1alpha1 says Allow where v1alpha2 says Accept)."""
    return rule.rule.action_text or rule.action.value
