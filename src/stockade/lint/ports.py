"""``named-port-undeclared``: a named port that no destination of its rule declares.

Named ports resolve on the destination: the pods a policy selects for its ingress rules,
the rule's peers for egress rules (``networkpolicy-semantics.md`` §5.4). Destinations are
the engine's: compiled subjects and peer matches, with the classes' resolved named ports.
Pure.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stockade.engine.compile import CompiledPort, CompiledRule
from stockade.engine.engine import INGRESS
from stockade.lint.context import LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.lint.policies import field_of
from stockade.model.types import NetworkPolicy

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
                    classes = ctx.compiled[i].subjects
                    what = "pods this policy selects"
                else:
                    classes = _destinations(ctx, rule)
                    what = "destinations of this rule"
                pods = ctx.members(classes, stand_ins=True)
                for cp in named:
                    if not pods:
                        if (direction is not INGRESS and addressed and not rule.any_peer
                                and all(p.block is not None for p in rule.peers)):
                            yield _finding(ctx, policy, rule, cp,
                                           f"named port {cp.name!r} can never match: the "
                                           "rule's peers are ipBlocks holding no pod of the "
                                           "input, and only pods declare named ports",
                                           "use the port number")
                        continue
                    yield from _check(ctx, policy, rule, cp, classes, pods, what)


def _destinations(ctx: LintContext, rule: CompiledRule) -> np.ndarray:  # type: ignore[type-arg]
    out = rule.selected.copy()
    for members in rule.block_members.values():
        out |= members
    return out


def _check(ctx: LintContext, policy: NetworkPolicy, rule: CompiledRule, cp: CompiledPort,
           classes: np.ndarray, pods: list[int],  # type: ignore[type-arg]
           what: str) -> Iterator[LintFinding]:
    engine = ctx.engine
    for c in np.flatnonzero(classes):
        cls = engine.classes[int(c)]
        if not cls.host_network and cls.named_port(cp.protocol, cp.name) is not None:
            return
    other: dict[str, list[str]] = {}
    for j in pods:
        for port in engine.pods[j].container_ports():
            if port.name == cp.name and port.protocol != cp.protocol:
                other.setdefault(port.protocol, []).append(ctx.display(j))
    names = ctx.names(pods)
    if other:
        protocol, holders = next(iter(sorted(other.items())))
        holders = list(dict.fromkeys(holders))
        yield _finding(ctx, policy, rule, cp,
                       f"named port {cp.name!r} ({cp.protocol}) is declared by none of the "
                       f"{what}; {listing(holders)} declare{'s' if len(holders) == 1 else ''}"
                       f" {cp.name!r} as {protocol}",
                       f"set protocol: {protocol} on this port entry", names)
        return
    yield _finding(ctx, policy, rule, cp,
                   f"named port {cp.name!r} ({cp.protocol}) is declared by none of the {what} "
                   f"({listing(names)}), so this entry matches nothing",
                   "name the container port in those pods, or use its number", names)


def _finding(ctx: LintContext, policy: NetworkPolicy, rule: CompiledRule, cp: CompiledPort,
             message: str, hint: str, related: list[str] | None = None) -> LintFinding:
    name = field_of(rule.direction)[0]
    k = next(n for n, entry in enumerate(rule.rule.ports) if entry is cp.port)
    return ctx.finding("named-port-undeclared", policy, f"spec.{name}[{rule.index}].ports[{k}]",
                       message, hint, related or ())
