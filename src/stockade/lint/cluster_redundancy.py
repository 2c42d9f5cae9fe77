"""``redundant-rule`` and ``redundant-policy`` for cluster-wide policies, proven on the
matrix's rows (``reach``) with the tiers' first-match algebra (``engine.spans``).

A cluster-wide rule is needed when, for some pod its policy selects and some peer of the
input, removing it changes what the Admin and Baseline tiers decide: the ports they accept,
the ports they leave to the NetworkPolicy tier, and what the Baseline tier makes of those
when no NetworkPolicy isolates the pod. That is "no verdict changes, whatever the
NetworkPolicies say": a side's verdict is ``tiered(admin, networkpolicy, baseline)``, and
comparing it with the NetworkPolicy tier allowing nothing, allowing everything and not
isolating pins down every possible NetworkPolicy tier. Cluster-wide policies are written to
hold whatever the namespaces do, so a rule that today's NetworkPolicies alone make
pointless (an Admin Deny that they deny too, a Baseline rule for pods they all isolate) is
not reported. Order matters as in the engine: a later rule is covered by an earlier one
that matches the same peers and ports first (whatever its action), a Pass hands its ports
on, a Deny covered by a later Deny of the same tier is not needed.

Rules in a stack that has ``domainNames`` rules are never reported: which addresses a name
resolves to is not in the input, so what such a stack decides for them cannot be proven.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from stockade.engine import spans as span_ops
from stockade.engine.explain import rule_path
from stockade.engine.matrix import Layers, Spans
from stockade.engine.tiers import CompiledClusterRule
from stockade.lint.context import LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.lint.reach import Rows, bits
from stockade.model.types import ClusterNetworkPolicy, PolicyType

RuleKey = tuple[int, PolicyType, int]  # (cluster policy, direction, rule index)
Entry = tuple[CompiledClusterRule, Spans, bool]  # a matching rule, its ports, Admin tier?
Outcome = tuple[Spans, Spans, Spans]


def has_domains(layers: Layers) -> bool:
    """Whether a side's cluster-wide rules name domains (whose addresses are unknown)."""
    return any(peer.domain_names for rule in (*layers.admin, *layers.baseline)
               for peer in rule.rule.peers)


def outcome(entries: Sequence[Entry]) -> Outcome:
    """What the tiers make of a peer whose matching cluster rules are ``entries`` (in
    order), for a NetworkPolicy tier that allows nothing, that allows everything, and that
    does not isolate the pod."""
    admin = span_ops.first_match([(rule.action, spans) for rule, spans, a in entries if a])
    baseline = span_ops.first_match([(rule.action, spans) for rule, spans, a in entries
                                     if not a])
    return (span_ops.tiered(admin, span_ops.NONE, baseline),
            span_ops.tiered(admin, span_ops.ALL, baseline),
            span_ops.tiered(admin, None, baseline))


@dataclass(frozen=True, slots=True)
class _Row:
    """What one distinct row proves: rules and policies whose removal changes the outcome,
    rules allowing or denying something, and what covers the others."""

    needed: frozenset[RuleKey]
    matching: frozenset[RuleKey]
    needed_policies: frozenset[int]
    cover: tuple[tuple[RuleKey, tuple[RuleKey, ...]], ...]


def _key(rule: CompiledClusterRule) -> RuleKey:
    return rule.policy, rule.direction, rule.index


def _overlap(a: Spans, b: Spans) -> bool:
    return bool(span_ops.intersect(a, b))


def _judge_row(entries: Sequence[Entry]) -> _Row:
    whole = outcome(entries)
    needed: set[RuleKey] = set()
    cover: list[tuple[RuleKey, tuple[RuleKey, ...]]] = []
    for j, (rule, spans, _) in enumerate(entries):
        if outcome([e for k, e in enumerate(entries) if k != j]) != whole:
            needed.add(_key(rule))
        else:  # the rules that decide its ports instead: earlier ones first, else later
            overlapping = [(k, _key(other)) for k, (other, s, _) in enumerate(entries)
                           if k != j and _overlap(s, spans)]
            earlier = tuple(key for k, key in overlapping if k < j)
            cover.append((_key(rule), earlier or tuple(key for _, key in overlapping)))
    policies: set[int] = set()
    for p in {rule.policy for rule, _, _ in entries}:
        if outcome([e for e in entries if e[0].policy != p]) != whole:
            policies.add(p)
    return _Row(frozenset(needed), frozenset(_key(rule) for rule, _, _ in entries),
                frozenset(policies), tuple(cover))


@dataclass(slots=True)
class _Verdicts:
    needed_rules: set[RuleKey] = field(default_factory=set)
    matching_rules: set[RuleKey] = field(default_factory=set)  # match some peer of a pod
    seen_rules: set[RuleKey] = field(default_factory=set)
    needed_policies: set[int] = field(default_factory=set)
    seen_policies: set[int] = field(default_factory=set)
    cover: dict[RuleKey, dict[RuleKey, None]] = field(default_factory=dict)
    memo: dict[tuple[object, ...], _Row] = field(default_factory=dict)

    def add(self, row: _Row) -> None:
        self.needed_rules |= row.needed
        self.matching_rules |= row.matching
        self.needed_policies |= row.needed_policies
        for key, others in row.cover:
            found = self.cover.setdefault(key, {})
            for other in others:
                found.setdefault(other, None)


def _judge(rows: Rows, direction: PolicyType, verdicts: _Verdicts) -> None:
    for t in rows.restricted_types(direction):
        tr = rows.type_rows(direction, t)
        layers = tr.layers
        na, nn = len(layers.admin), len(layers.networkpolicy)
        positions = [*range(na), *range(na + nn, len(tr.rules))]
        if not positions:
            continue
        cluster_rules: dict[int, CompiledClusterRule] = {
            j: rule for j in positions if isinstance(rule := tr.rules[j], CompiledClusterRule)}
        keys = {j: _key(rule) for j, rule in cluster_rules.items()}
        verdicts.seen_rules.update(keys.values())
        verdicts.seen_policies.update(rule.policy for rule in cluster_rules.values())
        if has_domains(layers):  # nothing can be proven for the names' addresses
            verdicts.needed_rules.update(keys.values())
            verdicts.needed_policies.update(rule.policy for rule in cluster_rules.values())
            continue
        for mask, spans in tr.rows():
            on = [j for j in bits(mask) if j in cluster_rules]
            if not on:
                continue
            memo_key = tuple((id(cluster_rules[j]), spans[j]) for j in on)
            row = verdicts.memo.get(memo_key)
            if row is None:
                row = verdicts.memo[memo_key] = _judge_row(
                    [(cluster_rules[j], spans[j], j < na) for j in on])
            verdicts.add(row)


def _rule_ref(policy: ClusterNetworkPolicy, key: RuleKey, *, own: bool) -> str:
    _, direction, index = key
    rule = policy.rules(direction)[index]
    named = f' "{rule.name}"' if rule.name else ""
    where = f"{rule_path(direction, index)}{named}"
    return where if own else f"{policy.key} {where}"


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    engine = ctx.engine
    if (not {"redundant-rule", "redundant-policy"} & enabled or not engine.classes
            or engine.tiers.empty):
        return
    rows = ctx.rows
    verdicts = _Verdicts()
    for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
        _judge(rows, direction, verdicts)
    policies = engine.cluster_policies
    redundant: set[int] = set()
    for p in sorted(verdicts.seen_policies - verdicts.needed_policies):
        policy = policies[p]
        redundant.add(p)
        if "redundant-policy" not in enabled:
            continue
        others = sorted({policies[q].key for key in verdicts.seen_rules if key[0] == p
                         for q, _, _ in verdicts.cover.get(key, {}) if q != p})
        because = (f"the rules of {listing(others)} decide everything it decides"
                   if others else "what its rules match is decided the same without them")
        yield ctx.finding(
            "redundant-policy", policy, "",
            f"removing this policy changes no connection, whatever the NetworkPolicies: "
            f"{because}",
            "delete it, or narrow the policies that cover it if it is the one meant to stay")
    if "redundant-rule" not in enabled:
        return
    # A rule matching no peer of its pods (or only the pods themselves, and node traffic,
    # which are always allowed) is left to peer-selects-nothing.
    for key in sorted(verdicts.matching_rules - verdicts.needed_rules):
        p, direction, index = key
        if p in redundant:
            continue  # reported once, for the whole policy
        policy = policies[p]
        covering = [_rule_ref(policies[other[0]], other, own=other[0] == p)
                    for other in verdicts.cover.get(key, {})]
        by = (f" (covered by {listing(covering)})" if covering else "")
        yield ctx.finding(
            "redundant-rule", policy, f"spec.{rule_path(direction, index)}",
            f"{_rule_ref(policy, key, own=True)} decides nothing that the rules around it "
            f"do not decide the same way{by}: removing it changes no connection, whatever "
            "the NetworkPolicies",
            "delete the rule, or merge it into the rule that covers it")
