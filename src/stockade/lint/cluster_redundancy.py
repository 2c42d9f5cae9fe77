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
from stockade.model.types import ClusterNetworkPolicy, PolicyType, RuleAction

RuleKey = tuple[int, PolicyType, int]  # (cluster policy, direction, rule index)
Entry = tuple[CompiledClusterRule, Spans, bool]  # a matching rule, its ports, Admin tier?
Outcome = tuple[Spans, Spans, Spans]


def has_domains(layers: Layers) -> bool:
    """Whether a side's cluster-wide rules name domains (whose addresses are unknown)."""
    return any(peer.domain_names for rule in (*layers.admin, *layers.baseline)
               for peer in rule.rule.peers)


Pair = tuple[Spans, Spans]  # a tier's (accepted, decided) ports


class Tiers:
    """The tiers' algebra (``engine.spans``) over the rules matching one peer, memoised:
    the same stacks of rules meet many peers."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[tuple[RuleAction, Spans], ...], Pair] = {}
        self._outcomes: dict[tuple[Pair, Pair], Outcome] = {}

    def pair(self, entries: Sequence[Entry], admin: bool) -> Pair:
        """A tier's first-match (accepted, decided) ports over the matching rules."""
        key = tuple((rule.action, spans) for rule, spans, a in entries if a == admin)
        found = self._pairs.get(key)
        if found is None:
            found = self._pairs[key] = span_ops.first_match(key)
        return found

    def outcome(self, entries: Sequence[Entry]) -> Outcome:
        """What the tiers make of a peer whose matching cluster rules are ``entries`` (in
        order), for a NetworkPolicy tier that allows nothing, that allows everything, and
        that does not isolate the pod."""
        admin, baseline = self.pair(entries, True), self.pair(entries, False)
        found = self._outcomes.get((admin, baseline))
        if found is None:
            found = self._outcomes[admin, baseline] = (
                span_ops.tiered(admin, span_ops.NONE, baseline),
                span_ops.tiered(admin, span_ops.ALL, baseline),
                span_ops.tiered(admin, None, baseline))
        return found


@dataclass(frozen=True, slots=True)
class _Row:
    """What one distinct row proves: the rules and policies whose removal changes the
    outcome (among those not yet known to be needed), and the rules it does not need."""

    entries: tuple[Entry, ...]
    needed: frozenset[RuleKey]
    needed_policies: frozenset[int]
    unneeded: tuple[int, ...]  # positions in ``entries``


def _key(rule: CompiledClusterRule) -> RuleKey:
    return rule.policy, rule.direction, rule.index


def _judge_row(tiers: Tiers, entries: tuple[Entry, ...], known: set[RuleKey],
               known_policies: set[int]) -> _Row:
    """Which rules and policies the row needs, skipping those ``known`` to be needed."""
    outcome = tiers.outcome
    whole = outcome(entries)
    needed: set[RuleKey] = set()
    unneeded: list[int] = []
    covered = {True: span_ops.NONE, False: span_ops.NONE}  # per tier: earlier rules' ports
    for j, (rule, spans, admin) in enumerate(entries):
        # A rule whose ports earlier rules of its tier all cover never matches first.
        shadowed = not span_ops.subtract(spans, covered[admin])
        covered[admin] = span_ops.union(covered[admin], spans)
        key = _key(rule)
        if key in known:
            continue
        if shadowed or outcome(entries[:j] + entries[j + 1:]) == whole:
            unneeded.append(j)
        else:
            needed.add(key)
    policies: set[int] = set()
    by_policy: dict[int, list[int]] = {}
    for j, (rule, _, _) in enumerate(entries):
        by_policy.setdefault(rule.policy, []).append(j)
    for p, own in by_policy.items():
        if p in known_policies:
            continue
        if len(own) == 1 and _key(entries[own[0]][0]) not in known:
            if own[0] not in unneeded:  # a policy of one rule here is that rule
                policies.add(p)
            continue
        if outcome(tuple(e for e in entries if e[0].policy != p)) != whole:
            policies.add(p)
    return _Row(entries, frozenset(needed), frozenset(policies), tuple(unneeded))


@dataclass(slots=True)
class _Verdicts:
    needed_rules: set[RuleKey] = field(default_factory=set)
    matching_rules: set[RuleKey] = field(default_factory=set)  # match some peer of a pod
    seen_rules: set[RuleKey] = field(default_factory=set)
    needed_policies: set[int] = field(default_factory=set)
    seen_policies: set[int] = field(default_factory=set)
    memo: dict[tuple[object, ...], _Row] = field(default_factory=dict)
    tiers: Tiers = field(default_factory=Tiers)

    def add(self, row: _Row) -> None:
        self.needed_rules |= row.needed
        self.matching_rules.update(_key(rule) for rule, _, _ in row.entries)
        self.needed_policies |= row.needed_policies

    def covers(self, keys: set[RuleKey]) -> dict[RuleKey, list[RuleKey]]:
        """For redundant rules, the rules that decide their ports instead, in the rows
        where they match: earlier ones of the row when there are, else later ones."""
        found: dict[RuleKey, dict[RuleKey, None]] = {key: {} for key in keys}
        for row in self.memo.values():
            for j in row.unneeded:
                rule, spans, _ = row.entries[j]
                key = _key(rule)
                if key not in found:
                    continue
                overlapping = [(k, _key(other)) for k, (other, s, _) in enumerate(row.entries)
                               if k != j and span_ops.intersect(s, spans)]
                earlier = [other for k, other in overlapping if k < j]
                found[key].update(dict.fromkeys(earlier or [other for _, other in overlapping]))
        return {key: list(others) for key, others in found.items()}


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
            if memo_key in verdicts.memo:
                continue  # the same rules with the same ports: the same proof
            entries = tuple((cluster_rules[j], spans[j], j < na) for j in on)
            row = verdicts.memo[memo_key] = _judge_row(verdicts.tiers, entries,
                                                       verdicts.needed_rules,
                                                       verdicts.needed_policies)
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
    # A rule matching no peer of its pods (or only the pods themselves, and node traffic,
    # which are always allowed) is left to peer-selects-nothing; so is a policy whose
    # rules all do.
    matching = {p for p, _, _ in verdicts.matching_rules}
    redundant = sorted(verdicts.seen_policies & matching - verdicts.needed_policies)
    rules = sorted(key for key in verdicts.matching_rules - verdicts.needed_rules
                   if key[0] not in redundant)  # a whole policy is reported once
    covers = verdicts.covers({key for key in verdicts.matching_rules if key[0] in redundant}
                             | set(rules))
    if "redundant-policy" in enabled:
        for p in redundant:
            others = sorted({policies[q].key for key, found in covers.items() if key[0] == p
                             for q, _, _ in found if q != p})
            because = (f"the rules of {listing(others)} decide everything it decides"
                       if others else "what its rules match is decided the same without them")
            yield ctx.finding(
                "redundant-policy", policies[p], "",
                f"removing this policy changes no connection, whatever the NetworkPolicies: "
                f"{because}",
                "delete it, or narrow the policies that cover it if it is the one meant to "
                "stay")
    if "redundant-rule" not in enabled:
        return
    for key in rules:
        p, direction, index = key
        policy = policies[p]
        covering = [_rule_ref(policies[other[0]], other, own=other[0] == p)
                    for other in covers[key]]
        by = f" (covered by {listing(covering)})" if covering else ""
        yield ctx.finding(
            "redundant-rule", policy, f"spec.{rule_path(direction, index)}",
            f"{_rule_ref(policy, key, own=True)} decides nothing that the rules around it "
            f"do not decide the same way{by}: removing it changes no connection, whatever "
            "the NetworkPolicies",
            "delete the rule, or merge it into the rule that covers it")
