"""``named-port-undeclared``: a named port that no destination of its rule declares.

Named ports resolve on the destination: the pods a policy selects for its ingress rules,
the rule's peers for egress rules (``networkpolicy-semantics.md`` §5.4). Destinations are
the engine's: compiled subjects and peer matches, with the classes' resolved named ports.
Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from stockade.engine.compile import CompiledPort, CompiledRule
from stockade.engine.engine import INGRESS
from stockade.lint.cluster_rules import ports_field
from stockade.lint.context import BoolArray, LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.lint.policies import field_of
from stockade.model.types import NetworkPolicy, Protocol

CHECK_IDS = frozenset({"named-port-undeclared"})


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    if "named-port-undeclared" not in enabled:
        return
    addressed = any(p.ips for p in ctx.engine.pods[:ctx.real])
    for i, policy in enumerate(ctx.policies):
        for direction, rules in ctx.compiled[i].rules.items():
            for rule in rules:
                named = [cp for cp in rule.ports if cp.name]
                if not named:
                    continue
                if direction is INGRESS:
                    classes = ctx.compiled[i].subjects.dense()
                    what = "pods this policy selects"
                else:
                    classes = _destinations(ctx, rule)
                    what = "destinations of this rule"
                reached = ctx.any_member(classes, stand_ins=True)
                for cp in named:
                    if not reached:
                        if (direction is not INGRESS and addressed and not rule.any_peer
                                and all(p.block is not None for p in rule.peers)):
                            yield _finding(ctx, policy, rule, cp,
                                           f"named port {cp.name!r} can never match: the "
                                           "rule's peers are ipBlocks holding no pod of the "
                                           "input, and only pods declare named ports",
                                           hint="use the port number")
                        continue
                    yield from _check(ctx, policy, rule, cp, classes, what=what)
    yield from _cluster(ctx)


def _destinations(ctx: LintContext, rule: CompiledRule) -> BoolArray:
    out = rule.selected
    for members in rule.block_members.values():
        out = out | members
    return out.dense()


def _check(ctx: LintContext, policy: NetworkPolicy, rule: CompiledRule, cp: CompiledPort,
           classes: BoolArray, *, what: str) -> Iterator[LintFinding]:
    engine = ctx.engine
    if (classes & ctx.declaring(cp.protocol, cp.name)).any():
        return
    pods = ctx.members(classes, stand_ins=True)
    other: dict[str, list[int]] = {}
    for protocol, declared in ctx.declaring_name(cp.name).items():
        if protocol != cp.protocol:
            mine = [j for j in declared if classes[engine.pod_class[j]]]
            if mine:
                other[protocol] = mine
    names = ctx.names(pods)
    if other:
        protocol, holding = next(iter(sorted(other.items())))
        holders = ctx.names(holding)
        yield _finding(ctx, policy, rule, cp,
                       f"named port {cp.name!r} ({cp.protocol}) is declared by none of the "
                       f"{what}; {listing(holders)} declare{'s' if len(holders) == 1 else ''}"
                       f" {cp.name!r} as {protocol}",
                       hint=f"set protocol: {protocol} on this port entry", related=names)
        return
    yield _finding(ctx, policy, rule, cp,
                   f"named port {cp.name!r} ({cp.protocol}) is declared by none of the {what} "
                   f"({listing(names)}), so this entry matches nothing",
                   hint="name the container port in those pods, or use its number",
                   related=names)


def _finding(ctx: LintContext, policy: NetworkPolicy, rule: CompiledRule, cp: CompiledPort,
             message: str, *, hint: str, related: Iterable[str] = ()) -> LintFinding:
    name = field_of(rule.direction)[0]
    k = next(n for n, entry in enumerate(rule.rule.ports) if entry is cp.port)
    return ctx.finding("named-port-undeclared", policy, f"spec.{name}[{rule.index}].ports[{k}]",
                       message, hint, related=related)


# --- cluster-wide policies -----------------------------------------------------------------


def _cluster(ctx: LintContext) -> Iterator[LintFinding]:
    """Cluster policies' named ports (v1alpha1 ``namedPort``, v1alpha2
    ``destinationNamedPort``) carry no protocol: a destination declaring the name with any
    protocol resolves them. CEL forbids them towards networks, nodes and domain names, so
    the destinations are pods: the subjects for ingress, the selector peers for egress."""
    engine = ctx.engine
    for policy, compiled in zip(engine.cluster_policies, engine.tiers.compiled, strict=True):
        for direction, rules in compiled.rules.items():
            for rule in rules:
                named = [(k, cp) for k, cp in enumerate(rule.ports) if cp.name]
                if not named or rule.all_peers:
                    continue
                if direction is INGRESS:
                    classes, what = compiled.subjects.dense(), "pods this policy selects"
                else:
                    classes, what = rule.selected.dense(), "destinations of this rule"
                if not ctx.any_member(classes, stand_ins=True):
                    continue  # nothing to resolve on: the selectors' checks say so
                for k, cp in named:
                    declaring = np.zeros(len(classes), dtype=np.bool_)
                    for protocol in Protocol:
                        declaring |= ctx.declaring(protocol, cp.name)
                    if (classes & declaring).any():
                        continue
                    names = ctx.names(ctx.members(classes, stand_ins=True))
                    field = ports_field(cp.entry.field)
                    yield ctx.finding(
                        "named-port-undeclared", policy,
                        f"spec.{field_of(direction)[0]}[{rule.index}].{field}[{k}]",
                        f"named port {cp.name!r} is declared by none of the {what} "
                        f"({listing(names)}) under any protocol, so this entry matches nothing",
                        "name the container port in those pods, or use its number",
                        related=names)
