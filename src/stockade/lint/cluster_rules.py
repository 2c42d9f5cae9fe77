"""Checks on cluster-wide policies' subjects, peers and rules: selectors that select nothing
(the subject's ``namespaces``/``pods``, peers' ``namespaces``/``pods``/``nodes``), Accept
rules open to every pod or address, and ``networks`` written with host bits. Matches come
from the engine's compiled tiers (``engine.tiers``); Node labels from the input's Nodes.
Pure.
"""

from __future__ import annotations

from collections.abc import Iterator

from stockade.engine.engine import EGRESS, INGRESS
from stockade.engine.tiers import ClusterPeer, CompiledClusterPolicy, CompiledClusterRule
from stockade.lint.context import BoolArray, LintContext, listing
from stockade.lint.findings import LintFinding
from stockade.lint.labels import why_nothing
from stockade.lint.peers import host_bits
from stockade.lint.policies import field_of
from stockade.lint.selection import PodSelection, no_namespace, no_pod, selected_namespaces
from stockade.model.cluster_policies import V1ALPHA1_PORTS
from stockade.model.netparse import parse_prefix
from stockade.model.selectors import describe_selector, selector_matches
from stockade.model.types import (
    ClusterNetworkPolicy,
    ClusterPolicyRule,
    NamespacedPod,
    PolicyType,
    RuleAction,
    Tier,
)

CHECK_IDS = frozenset({"policy-selects-nothing", "peer-selects-nothing", "allow-all-rule",
                       "ipblock-host-bits"})


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    engine = ctx.engine
    for policy, compiled in zip(engine.cluster_policies, engine.tiers.compiled, strict=True):
        if "policy-selects-nothing" in enabled:
            yield from _subject(ctx, policy, compiled)
        for direction in (INGRESS, EGRESS):
            name, peers = field_of(direction)
            for rule in compiled.rules[direction]:
                for k, cp in enumerate(rule.peers):
                    path = f"spec.{name}[{rule.index}].{peers}[{k}]"
                    if "peer-selects-nothing" in enabled:
                        yield from _peer(ctx, policy, cp, path, direction)
                    if "ipblock-host-bits" in enabled:
                        yield from host_bits(ctx, policy, [
                            (f"{path}.networks[{n}]", text)
                            for n, text in enumerate(cp.peer.networks)], parse_prefix)
                if "allow-all-rule" in enabled:
                    yield from _allow_all(ctx, policy, compiled, rule)


# --- selectors that select nothing ---------------------------------------------------------


def _pods(ctx: LintContext, policy: ClusterNetworkPolicy, pods: NamespacedPod,
          selected: BoolArray | None, path: str, *, check: str, what: str, host_effect: str,
          host_hint: str) -> Iterator[LintFinding]:
    """A ``pods: {namespaceSelector, podSelector}`` subject or peer at ``path``."""
    namespaces = selected_namespaces(ctx, pods.namespace_selector)
    if not namespaces:
        yield from no_namespace(ctx, check, policy, pods.namespace_selector,
                                field="pods.namespaceSelector",
                                path=f"{path}.namespaceSelector")
        return
    scope = ("" if pods.namespace_selector.is_empty else
             f" (selected by namespaceSelector {describe_selector(pods.namespace_selector)})")
    assert selected is not None
    yield from no_pod(ctx, check, policy,
                      PodSelection(pods.pod_selector, "pods.podSelector", f"{path}.podSelector",
                                   namespaces, scope, selected, what),
                      host_effect=host_effect, host_hint=host_hint)


def _subject(ctx: LintContext, policy: ClusterNetworkPolicy,
             compiled: CompiledClusterPolicy) -> Iterator[LintFinding]:
    subject = policy.subject
    check = "policy-selects-nothing"
    if subject.namespaces is not None:
        if not selected_namespaces(ctx, subject.namespaces):
            yield from no_namespace(ctx, check, policy, subject.namespaces,
                                    field="subject namespaces", path="spec.subject.namespaces")
        return
    if subject.pods is not None:
        yield from _pods(
            ctx, policy, subject.pods, compiled.subjects.dense(), "spec.subject.pods",
            check=check,
            what="pod or workload",
            host_effect="cluster-wide policies never select them, their traffic is node traffic",
            host_hint="restrict host-network pods with nodes peers in other pods' egress rules")


def _peer(ctx: LintContext, policy: ClusterNetworkPolicy, cp: ClusterPeer, path: str,
          direction: PolicyType) -> Iterator[LintFinding]:
    peer = cp.peer
    check = "peer-selects-nothing"
    if peer.namespaces is not None:
        if not selected_namespaces(ctx, peer.namespaces):
            yield from no_namespace(ctx, check, policy, peer.namespaces, field="namespaces",
                                    path=f"{path}.namespaces")
    elif peer.pods is not None:
        hint = ("match their nodes with a nodes peer instead" if direction is EGRESS else
                "ingress rules cannot match node traffic: restrict it on the node")
        selected = None if cp.selected is None else cp.selected.dense()
        yield from _pods(ctx, policy, peer.pods, selected, f"{path}.pods", check=check,
                         what="pod", host_effect="their traffic is node traffic, which "
                         "namespaces and pods peers never match", host_hint=hint)
    elif peer.nodes is not None and ctx.cluster.nodes:
        labels = [node.metadata.label_map for node in ctx.cluster.nodes]
        if any(selector_matches(peer.nodes, node_labels) for node_labels in labels):
            return
        reason, hint = why_nothing(peer.nodes, "node", labels)
        yield ctx.finding(check, policy, f"{path}.nodes",
                          f"nodes {describe_selector(peer.nodes)} matches no Node of the "
                          f"input; {reason}", hint)


# --- Accept rules open to everything -------------------------------------------------------


def describe_cluster_ports(rule: ClusterPolicyRule) -> str:
    """``all ports``, ``TCP 80``, ``UDP 53, TCP 53``, ``TCP 8000-8080``, ``metrics``."""
    if rule.ports is None:
        return "all ports"
    parts = []
    for entry in rule.ports:
        if entry.name:
            parts.append(f"named port {entry.name}")
        elif entry.first == entry.last:
            parts.append(f"{entry.protocol} {entry.first}")
        elif (entry.first, entry.last) == (1, 65535):
            parts.append(f"{entry.protocol} (every port)")
        else:
            parts.append(f"{entry.protocol} {entry.first}-{entry.last}")
    return ", ".join(parts)


def ports_field(entry_field: str) -> str:
    """The rule's list of port entries: ``ports`` (v1alpha1) or ``protocols`` (v1alpha2)."""
    return "ports" if entry_field in V1ALPHA1_PORTS else "protocols"


def _everything(cp: ClusterPeer) -> str:
    """What an all-matching peer matches, or ``""``."""
    peer = cp.peer
    if peer.namespaces is not None and peer.namespaces.is_empty:
        return "every pod of every namespace"
    if (peer.pods is not None and peer.pods.namespace_selector.is_empty
            and peer.pods.pod_selector.is_empty):
        return "every pod of every namespace"
    families = sorted({net.version for net in cp.networks if net.prefixlen == 0})
    if families:
        return " and ".join(f"every IPv{f} address" for f in families) + " (pods' included)"
    return ""


def _allow_all(ctx: LintContext, policy: ClusterNetworkPolicy, compiled: CompiledClusterPolicy,
               rule: CompiledClusterRule) -> Iterator[LintFinding]:
    if rule.action is not RuleAction.ACCEPT or rule.fail_closed:
        return
    name, peers = field_of(rule.direction)
    into = "into" if rule.direction is INGRESS else "out of"
    side = "from" if rule.direction is INGRESS else "to"
    names = ctx.names(ctx.members(compiled.subjects.dense()))
    whom = listing(names) if names else "the pods its subject selects"
    if policy.tier is Tier.ADMIN:
        tier = "in the Admin tier, so no NetworkPolicy can narrow it"
    else:
        tier = "in the Baseline tier, for the pods no NetworkPolicy isolates"
    action = rule.rule.action_text or rule.action.value
    verb = "allow" if action == "Allow" else "accept"
    for k, cp in enumerate(rule.peers):
        everything = _everything(cp)
        if everything:
            yield ctx.finding(
                "allow-all-rule", policy, f"spec.{name}[{rule.index}].{peers}[{k}]",
                f"{peers}[{k}] matches {everything}: {name}[{rule.index}] ({action}) {verb}s "
                f"{describe_cluster_ports(rule.rule)} {side} all of them, {into} {whom}, "
                f"{tier}",
                "narrow the peer to the namespaces, pods or networks meant, or silence this "
                "finding on the policy if it is meant", related=names)
