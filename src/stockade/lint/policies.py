"""Checks on a policy as a whole: what it selects, the directions it lists, rules open to
everything, and namespaces left without isolation. Pure."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.engine.engine import EGRESS, INGRESS
from stockade.lint.context import LintContext, Names, listing
from stockade.lint.findings import LintFinding
from stockade.lint.labels import why_nothing
from stockade.model.netparse import parse_cidr
from stockade.model.selectors import describe_selector, selector_matches
from stockade.model.types import (
    Namespace,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyRule,
    ObjectMeta,
    PolicyType,
    RuleAction,
    Tier,
)

CHECK_IDS = frozenset({"rules-ignored-by-policy-types", "policy-selects-nothing",
                       "allow-all-rule", "egress-policy-isolates-ingress",
                       "namespace-without-default-deny"})


def describe_ports(rule: NetworkPolicyRule) -> str:
    """``all ports``, ``TCP 80``, ``TCP http, UDP 53``, ``TCP 8000-8080``, ``UDP (all)``."""
    if not rule.ports:
        return "all ports"
    parts = []
    for entry in rule.ports:
        if entry.port is None:
            parts.append(f"{entry.protocol} (every port)")
        elif entry.end_port is not None:
            parts.append(f"{entry.protocol} {entry.port}-{entry.end_port}")
        else:
            parts.append(f"{entry.protocol} {entry.port}")
    return ", ".join(parts)


def rules_of(policy: NetworkPolicy, direction: PolicyType) -> tuple[NetworkPolicyRule, ...]:
    return policy.ingress if direction is INGRESS else policy.egress


def field_of(direction: PolicyType) -> tuple[str, str]:
    """(rules field, peers field): ``("ingress", "from")`` or ``("egress", "to")``."""
    return ("ingress", "from") if direction is INGRESS else ("egress", "to")


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    for i, policy in enumerate(ctx.policies):
        if "rules-ignored-by-policy-types" in enabled:
            yield from _ignored(ctx, policy)
        if "policy-selects-nothing" in enabled:
            yield from _selects_nothing(ctx, i, policy)
        if "allow-all-rule" in enabled:
            yield from _allow_all(ctx, i, policy)
        if "egress-policy-isolates-ingress" in enabled:
            yield from _implicit_ingress(ctx, i, policy)
    if "namespace-without-default-deny" in enabled:
        yield from _open_namespaces(ctx)


def _ignored(ctx: LintContext, policy: NetworkPolicy) -> Iterator[LintFinding]:
    for direction in (INGRESS, EGRESS):
        rules = rules_of(policy, direction)
        if rules and not policy.applies_to(direction):
            name = field_of(direction)[0]
            what = (f"the {name} rule has" if len(rules) == 1
                    else f"the {len(rules)} {name} rules have")
            types = ", ".join(policy.policy_types)
            yield ctx.finding(
                "rules-ignored-by-policy-types", policy, f"spec.{name}",
                f"policyTypes [{types}] does not list {direction.value}: {what} no effect",
                f"add {direction.value} to spec.policyTypes, or delete spec.{name}")


def _selects_nothing(ctx: LintContext, i: int, policy: NetworkPolicy) -> Iterator[LintFinding]:
    if policy.namespace not in ctx.populated or ctx.any_member(ctx.compiled[i].subjects.dense()):
        return
    selector = describe_selector(policy.pod_selector)
    in_ns = [j for j in ctx.pods_in([policy.namespace])]
    host = [j for j in in_ns if ctx.engine.pods[j].host_network
            and selector_matches(policy.pod_selector, ctx.engine.pods[j].labels)]
    if host:
        names = ctx.names(host)
        yield ctx.finding(
            "policy-selects-nothing", policy, "spec.podSelector",
            f"podSelector {selector} matches only host-network pods ({listing(names)}): "
            "NetworkPolicy never isolates them, their traffic is node traffic",
            "restrict host-network pods with ipBlocks on the node addresses in other "
            "pods' policies", related=names)
        return
    labels = [ctx.engine.pods[j].labels for j in in_ns if not ctx.engine.pods[j].host_network]
    reason, hint = why_nothing(policy.pod_selector, "pod", labels)
    yield ctx.finding(
        "policy-selects-nothing", policy, "spec.podSelector",
        f"podSelector {selector} matches no pod or workload in namespace "
        f"{policy.namespace}; {reason}", hint)


def _opens(ctx: LintContext, i: int, policy: NetworkPolicy) -> tuple[str, Names]:
    names = ctx.names(ctx.subjects(i))
    if names:
        return listing(names), names
    return f"the pods podSelector {describe_selector(policy.pod_selector)} selects", names


def _everything(peer: NetworkPolicyPeer) -> str:
    """What an all-matching peer matches, or ``""``."""
    if peer.ip_block is not None:
        net = parse_cidr(peer.ip_block.cidr)
        if net is not None and net.prefixlen == 0 and not peer.ip_block.except_:
            return f"every IPv{net.version} address"
        return ""
    ns, pods = peer.namespace_selector, peer.pod_selector
    if ns is not None and ns.is_empty and (pods is None or pods.is_empty):
        return "every pod of every namespace"
    return ""


def _allow_all(ctx: LintContext, i: int, policy: NetworkPolicy) -> Iterator[LintFinding]:
    for direction in (INGRESS, EGRESS):
        if not policy.applies_to(direction):
            continue
        name, peers = field_of(direction)
        verb = "into" if direction is INGRESS else "out of"
        side = "from" if direction is INGRESS else "to"
        for r, rule in enumerate(rules_of(policy, direction)):
            what, related = _opens(ctx, i, policy)
            if not rule.peers:
                yield ctx.finding(
                    "allow-all-rule", policy, f"spec.{name}[{r}]",
                    f"{name}[{r}] has no {peers}: it allows {describe_ports(rule)} {side} "
                    f"every pod and every address, {verb} {what}",
                    f"list the peers in {peers}, or silence this finding on the policy if "
                    "it is meant", related=related)
                continue
            for k, peer in enumerate(rule.peers):
                everything = _everything(peer)
                if everything:
                    yield ctx.finding(
                        "allow-all-rule", policy, f"spec.{name}[{r}].{peers}[{k}]",
                        f"{peers}[{k}] matches {everything}: {name}[{r}] allows "
                        f"{describe_ports(rule)} {side} all of them, {verb} {what}",
                        "narrow the peer to the namespaces, pods or addresses meant",
                        related=related)


def _implicit(policy: NetworkPolicy) -> bool:
    """Ingress listed only by defaulting, by a policy with egress rules and no ingress."""
    return policy.policy_types_defaulted and bool(policy.egress) and not policy.ingress


def _implicit_ingress(ctx: LintContext, i: int, policy: NetworkPolicy) -> Iterator[LintFinding]:
    if not _implicit(policy):
        return
    classes = ctx.compiled[i].subjects.members().tolist()
    affected = [c for c in classes
                if all(_implicit(ctx.policies[q]) for q in ctx.engine.isolating[INGRESS][c])]
    pods = ctx.members(affected)
    if len(classes) and not pods:
        return  # other policies isolate every selected pod for ingress on purpose
    names = ctx.names(pods)
    whom = listing(names) if names else "the pods it selects"
    yield ctx.finding(
        "egress-policy-isolates-ingress", policy, "spec",
        "policyTypes is not set and the policy has egress rules, so it defaults to "
        f"[Ingress, Egress]: with no ingress rules it denies all ingress to {whom}",
        "set policyTypes: [Egress] if only egress was meant, or [Ingress, Egress] to make "
        "the deny explicit", related=names)


def _cluster_denies(ctx: LintContext, cls: int) -> bool:
    """Whether a cluster-wide Deny rule (either tier, either direction) applies to a class:
    a cluster policy restricts it as a NetworkPolicy that isolates it would."""
    tiers = ctx.engine.tiers
    return any(rule.action is RuleAction.DENY
               for tier in Tier for direction in (INGRESS, EGRESS)
               for rule in tiers.stack(tier, direction, cls))


def _open_namespaces(ctx: LintContext) -> Iterator[LintFinding]:
    engine = ctx.engine
    open_classes = [c.index for c in engine.classes if not c.host_network
                    and not engine.isolating[INGRESS][c.index]
                    and not engine.isolating[EGRESS][c.index]
                    and not _cluster_denies(ctx, c.index)]
    by_ns: dict[str, list[int]] = {}
    for j in ctx.members(open_classes):
        by_ns.setdefault(engine.pods[j].namespace, []).append(j)
    for ns_name, pods in sorted(by_ns.items()):
        ns = ctx.cluster.namespace(ns_name)
        if ns is None or not ns.declared:  # no manifest: point at its first pod
            first = engine.pods[pods[0]]
            ns = Namespace(ObjectMeta(ns_name), first.origin, declared=False)
        names = ctx.names(pods)
        yield ctx.finding(
            "namespace-without-default-deny", ns, "",
            f"namespace {ns_name}: {listing(names)} {'is' if len(names) == 1 else 'are'} "
            "isolated in no direction: no policy restricts their traffic",
            "add a default deny: podSelector: {}, policyTypes: [Ingress, Egress]", related=names)
