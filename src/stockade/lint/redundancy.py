"""``redundant-rule`` and ``redundant-policy``: rules and policies whose removal changes no
connection, proven on the matrix's rows (``reach``), never by comparing text.

A rule is needed when, for some pod its policy selects and some peer, it allows a port no
other rule of the policies isolating that pod allows. A policy is needed when, for some
pod and peer, the others allow less than all of them together (or, for a pod that only
this policy isolates, less than what the pod gets unisolated). Both are decided per type
of pod (the set of policies isolating it, and the cluster-wide policies selecting it) over
the type's distinct peer rows, with the tiers in order: a rule whose ports an Admin rule
decides for every peer it matches changes nothing either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from stockade.engine.explain import rule_path
from stockade.engine.matrix import ALL, TierPair
from stockade.lint.cluster_redundancy import has_domains
from stockade.lint.context import LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.lint.reach import Rows, bits
from stockade.model.types import PolicyType

RuleKey = tuple[int, PolicyType, int]  # (policy, direction, rule index)


@dataclass(slots=True)
class _Verdicts:
    needed_rules: set[RuleKey] = field(default_factory=set)
    active_rules: set[RuleKey] = field(default_factory=set)  # allow something somewhere
    seen_rules: set[RuleKey] = field(default_factory=set)  # of a policy selecting pods
    needed_policies: set[int] = field(default_factory=set)
    seen_policies: set[int] = field(default_factory=set)
    cover: dict[RuleKey, dict[RuleKey, None]] = field(default_factory=dict)
    policy_cover: dict[int, dict[int, None]] = field(default_factory=dict)
    # Rules and policies of pods whose Admin tier has rules: it may be what covers them.
    admin_rules: set[RuleKey] = field(default_factory=set)
    admin_policies: set[int] = field(default_factory=set)


def _overlaps(a: tuple[tuple[int, int, int], ...], b: tuple[tuple[int, int, int], ...]) -> bool:
    return any(p == q and max(f1, f2) <= min(l1, l2) for p, f1, l1 in a for q, f2, l2 in b)


def _judge(ctx: LintContext, rows: Rows, direction: PolicyType, verdicts: _Verdicts) -> None:
    for t in rows.types(direction):
        tr = rows.type_rows(direction, t)
        mine = tr.networkpolicy  # the positions of the NetworkPolicy rules
        keys: dict[int, RuleKey] = {j: (tr.rules[j].policy, direction, tr.rules[j].index)
                                    for j in mine}
        by_policy: dict[int, list[int]] = {}
        for j in mine:
            by_policy.setdefault(tr.rules[j].policy, []).append(j)
        policies = (rows.keys.engine.isolating[direction][int(tr.subjects[0])]
                    if len(tr.subjects) else [])
        verdicts.seen_policies.update(policies)
        verdicts.seen_rules.update(keys.values())
        if tr.layers.admin:
            verdicts.admin_rules.update(keys.values())
            verdicts.admin_policies.update(policies)
        if has_domains(tr.layers):  # what the tiers decide for names cannot be proven
            verdicts.needed_rules.update(keys.values())
            verdicts.needed_policies.update(policies)
            continue
        judged: set[tuple[int, tuple[int, ...], tuple[TierPair, TierPair]]] = set()
        for mask, spans in tr.rows():
            every = bits(mask)
            on = [j for j in every if j in mine]
            if tr.layers.tiered:
                pairs = tr.tier_pairs_at(every, spans)
                if pairs[0][1] == ALL:
                    # The Admin tier decides every port for this peer: no NetworkPolicy
                    # rule or policy changes anything here.
                    verdicts.active_rules.update(keys[j] for j in on if spans[j])
                    continue
                # Rows that differ only by cluster rules with the same outcome in their
                # tiers prove the same: judge one of them.
                seen = (id(spans), tuple(on), pairs)
                if seen in judged:
                    continue
                judged.add(seen)
            whole = tr.allowed_at(every, spans)
            for j in on:
                if not spans[j]:
                    continue
                verdicts.active_rules.add(keys[j])
                if keys[j] in verdicts.needed_rules:
                    continue
                if tr.allowed_at([k for k in every if k != j], spans) != whole:
                    verdicts.needed_rules.add(keys[j])
                else:
                    cover = verdicts.cover.setdefault(keys[j], {})
                    for k in on:
                        if k != j and _overlaps(spans[k], spans[j]):
                            cover.setdefault(keys[k], None)
            for p in policies:
                if p in verdicts.needed_policies:
                    continue
                # With no other policy left, the pod is no longer isolated: all is allowed
                # (or what the Baseline tier leaves).
                alone = all(q == p for q in policies)
                drop = by_policy.get(p, ())
                after = tr.allowed_at([k for k in every if k not in drop], spans,
                                      isolated=not alone)
                if after != whole:
                    verdicts.needed_policies.add(p)
                else:
                    cover_p = verdicts.policy_cover.setdefault(p, {})
                    for k in on:
                        if tr.rules[k].policy != p:
                            cover_p.setdefault(tr.rules[k].policy, None)


def _matches_someone(ctx: LintContext, key: RuleKey) -> bool:
    """Whether a rule's peers match some endpoint (a rule matching none allows nothing:
    that is ``peer-selects-nothing``'s to say, when the input can tell)."""
    p, direction, index = key
    rule = ctx.compiled[p].rules[direction][index]
    if rule.any_peer:
        return True
    matched = rule.selected
    for members in rule.block_members.values():
        matched = matched | members
    return ctx.any_member(matched.dense(), stand_ins=True)


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    if not {"redundant-rule", "redundant-policy"} & enabled or not ctx.engine.classes:
        return
    rows = ctx.rows
    verdicts = _Verdicts()
    for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
        _judge(ctx, rows, direction, verdicts)
    redundant_policies: set[int] = set()
    for p in sorted(verdicts.seen_policies - verdicts.needed_policies):
        policy = ctx.policies[p]
        if not any(policy.ingress if d is PolicyType.INGRESS else policy.egress
                   for d in ctx.compiled[p].rules):
            continue  # a default deny guards pods that do not exist yet
        redundant_policies.add(p)
        if "redundant-policy" not in enabled:
            continue
        others = [ctx.policies[q].key for q in verdicts.policy_cover.get(p, {})]
        if others:
            because = (f"the other policies selecting its pods ({listing(others)}) already "
                       "allow everything it allows")
        elif p in verdicts.admin_policies:
            because = ("cluster-wide policies decide, before it, everything it would allow "
                       "or deny")
        else:
            because = ("the pods it selects are isolated by other policies that allow all "
                       "it allows")
        yield ctx.finding("redundant-policy", ctx.policies[p], "",
                       f"removing this policy changes no connection: {because}",
                       "delete it, or narrow the policies that cover it if it is the one "
                       "meant to stay")
    if "redundant-rule" not in enabled:
        return
    candidates = verdicts.active_rules | {
        key for key in verdicts.seen_rules if _matches_someone(ctx, key)}
    for key in sorted(candidates - verdicts.needed_rules):
        p, direction, index = key
        if p in redundant_policies:
            continue  # reported once, for the whole policy
        covering = [f"{ctx.policies[q].key} {rule_path(d, i)}"
                    for q, d, i in verdicts.cover.get(key, {})]
        where = f"spec.{rule_path(direction, index)}"
        by = f" (covered by {listing(covering)})" if covering else (
            " (the Admin tier decides first)" if key in verdicts.admin_rules else "")
        yield ctx.finding("redundant-rule", ctx.policies[p], where,
                       f"{rule_path(direction, index)} allows nothing that other rules of "
                       f"the policies selecting the same pods do not already allow{by}: "
                       "removing it changes no connection",
                       "delete the rule, or merge it into the rule that covers it")

