"""Checks on the peers of rules: selectors that match nothing, ipBlocks that hold pod IPs,
and cidrs written with host bits. Matches come from the compiled rules. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from stockade.engine.classes import pod_addresses
from stockade.engine.compile import CompiledPeer
from stockade.engine.engine import EGRESS, INGRESS
from stockade.lint.context import LintContext
from stockade.lint.findings import LintFinding
from stockade.lint.policies import field_of, rules_of
from stockade.lint.selection import PodSelection, no_namespace, no_pod, selected_namespaces
from stockade.model.netparse import IPNetwork, parse_cidr, parse_ip
from stockade.model.selectors import describe_selector
from stockade.model.types import ClusterNetworkPolicy, NetworkPolicy

CHECK_IDS = frozenset({"peer-selects-nothing", "ipblock-covers-pods", "ipblock-host-bits"})


def run(ctx: LintContext, enabled: set[str]) -> Iterator[LintFinding]:
    for i, policy in enumerate(ctx.policies):
        compiled = ctx.compiled[i]
        for direction, rules in compiled.rules.items():
            name, peers = field_of(direction)
            for rule in rules:
                for k, cp in enumerate(rule.peers):
                    path = f"spec.{name}[{rule.index}].{peers}[{k}]"
                    if cp.block is None and "peer-selects-nothing" in enabled:
                        yield from _selects_nothing(ctx, policy, cp, path)
                    elif cp.block is not None and "ipblock-covers-pods" in enabled:
                        yield from _covers_pods(ctx, policy, cp, path)
        if "ipblock-host-bits" in enabled:
            yield from _host_bits(ctx, policy)


def _selects_nothing(ctx: LintContext, policy: NetworkPolicy, cp: CompiledPeer,
                     path: str) -> Iterator[LintFinding]:
    peer = cp.peer
    scope = ""
    if peer.namespace_selector is not None:
        namespaces = selected_namespaces(ctx, peer.namespace_selector)
        if not namespaces:
            yield from no_namespace(ctx, "peer-selects-nothing", policy,
                                    peer.namespace_selector, field="namespaceSelector",
                                    path=f"{path}.namespaceSelector")
            return
        scope = (f" (selected by namespaceSelector "
                 f"{describe_selector(peer.namespace_selector)})")
    else:
        namespaces = [policy.namespace]
    if peer.pod_selector is None:
        return
    assert cp.selected is not None
    yield from no_pod(
        ctx, "peer-selects-nothing", policy,
        PodSelection(peer.pod_selector, "podSelector", f"{path}.podSelector", namespaces,
                     scope, cp.selected.dense()),
        host_effect="their traffic is node traffic, which selectors never match",
        host_hint="match the nodes' addresses with an ipBlock instead")


def _covers_pods(ctx: LintContext, policy: NetworkPolicy,
                 cp: CompiledPeer, path: str) -> Iterator[LintFinding]:
    assert cp.block is not None
    inside = np.zeros(len(ctx.engine.classes), dtype=np.bool_)
    for members in cp.block_members.values():
        inside |= members.dense()
    if not ctx.any_member(inside):
        return
    pods = ctx.members(inside)
    shown = []
    for j in pods[:3]:
        pod = ctx.engine.pods[j]
        addrs = [a for a in pod_addresses(pod)
                 if a.version == cp.block.network.version and a in cp.block.network]
        shown.append(f"{pod.key} ({addrs[0]})" if addrs else pod.key)
    more = f" and {len(pods) - 3} more" if len(pods) > 3 else ""
    cidr = cp.peer.ip_block.cidr if cp.peer.ip_block else str(cp.block.network)
    yield ctx.finding(
        "ipblock-covers-pods", policy, f"{path}.ipBlock",
        f"ipBlock {cidr} contains the IPs of {len(pods)} pod{'s' if len(pods) > 1 else ''} "
        f"of the input: {', '.join(shown)}{more}; whether an ipBlock matches pod traffic "
        "differs between network plugins",
        "select those pods with podSelector/namespaceSelector, and except the pod network "
        "from the block", related=ctx.names(pods))


def _host_bits(ctx: LintContext, policy: NetworkPolicy) -> Iterator[LintFinding]:
    for direction in (INGRESS, EGRESS):
        name, peers = field_of(direction)
        for r, rule in enumerate(rules_of(policy, direction)):
            for k, peer in enumerate(rule.peers):
                if peer.ip_block is None:
                    continue
                base = f"spec.{name}[{r}].{peers}[{k}].ipBlock"
                entries = [(f"{base}.cidr", peer.ip_block.cidr)]
                entries += [(f"{base}.except[{e}]", x)
                            for e, x in enumerate(peer.ip_block.except_)]
                yield from host_bits(ctx, policy, entries, parse_cidr)


def host_bits(ctx: LintContext, policy: NetworkPolicy | ClusterNetworkPolicy,
              entries: Iterable[tuple[str, str]],
              parse: Callable[[str], IPNetwork | None]) -> Iterator[LintFinding]:
    """``ipblock-host-bits`` for CIDRs (path, text) as ``parse`` reads them (host bits
    masked)."""
    for path, text in entries:
        net = parse(text)
        addr = parse_ip(text.partition("/")[0])
        if net is None or addr is None or int(addr) == int(net.network_address):
            continue
        yield ctx.finding(
            "ipblock-host-bits", policy, path,
            f"{text} has host bits set: it means {net} ({net.num_addresses:,} "
            f"addresses), not {addr} alone",
            f"write {net}, or {addr}/{net.max_prefixlen} for the one address")
