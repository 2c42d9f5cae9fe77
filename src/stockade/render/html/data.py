"""The report's data: everything the page shows, as one JSON-able value built from what the
engine computed (the connection graph, the explanations, the compiled policies).

The page never decides anything: colours, edges, highlights and explanations are all read
from here. Two optional overlays leave room for other commands: ``findings`` (lint findings
shown on the objects they concern) and ``changes`` with ``diff`` (a diff's changed cells,
its summary, and the groups only the old side had: ``overlays``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from stockade import __version__
from stockade.engine.addresses import AddressRange
from stockade.engine.classes import pod_addresses
from stockade.engine.explain import rule_path
from stockade.model.selectors import describe_selector
from stockade.model.types import (
    ClusterNetworkPolicy,
    ClusterPolicyPeer,
    ClusterPolicyPort,
    LabelSelector,
    NamespacedPod,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    PolicyType,
)
from stockade.render.connections import NOT_COMPUTED, ConnectionGraph
from stockade.render.html.overlays import CellChange, DiffPage, EdgeChange, RemovedGroup
from stockade.render.html.reasons import TOKENS, CellReasons


class FindingLike(Protocol):
    """What the report reads from a lint finding (``stockade.lint.LintFinding`` fits)."""

    @property
    def check(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def hint(self) -> str: ...
    @property
    def related(self) -> tuple[str, ...]: ...


LEVELS = {"none": 0, "all": 2}  # anything else: some ports (1)


def _peer_text(peer: NetworkPolicyPeer) -> str:
    if peer.ip_block is not None:
        block = peer.ip_block
        text = f"ipBlock {block.cidr}"
        return text + (f" except {', '.join(block.except_)}" if block.except_ else "")
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaceSelector {describe_selector(peer.namespace_selector)}")
    if peer.pod_selector is not None:
        parts.append(f"podSelector {describe_selector(peer.pod_selector)}")
    return " and ".join(parts) or "(empty peer)"


def _port_text(port: NetworkPolicyPort) -> str:
    if port.port is None:
        return f"{port.protocol} (every port)"
    if port.end_port is not None:
        return f"{port.protocol} {port.port}-{port.end_port}"
    return f"{port.protocol} {port.port}"


def _rule(direction: PolicyType, index: int, rule: NetworkPolicyRule) -> dict[str, Any]:
    anyone = "any source" if direction is PolicyType.INGRESS else "any destination"
    return {"path": rule_path(direction, index),
            "peers": [_peer_text(p) for p in rule.peers] or [anyone],
            "ports": [_port_text(p) for p in rule.ports] or ["any port"]}


def _policy(graph: ConnectionGraph, index: int, policy: NetworkPolicy) -> dict[str, Any]:
    compiled = graph.engine.compiled[index]
    group_of_class = compiled.subjects.members().tolist()
    rules = [_rule(d, i, r) for d, spec in ((PolicyType.INGRESS, policy.ingress),
                                            (PolicyType.EGRESS, policy.egress))
             if policy.applies_to(d) for i, r in enumerate(spec)]
    ignored = [d.value for d, spec in ((PolicyType.INGRESS, policy.ingress),
                                       (PolicyType.EGRESS, policy.egress))
               if spec and not policy.applies_to(d)]
    return {"key": policy.key, "ns": policy.namespace, "name": policy.name,
            "origin": str(policy.origin), "podSelector": describe_selector(policy.pod_selector),
            "types": list(policy.policy_types), "subjects": group_of_class, "rules": rules,
            "ignored": ignored}


def _namespaced_text(field: str, selector: LabelSelector | None,
                     pods: NamespacedPod | None) -> str:
    if selector is not None:
        return f"{field} {describe_selector(selector)}"
    assert pods is not None
    return (f"pods: namespaceSelector {describe_selector(pods.namespace_selector)} and "
            f"podSelector {describe_selector(pods.pod_selector)}")


def _cluster_peer_text(peer: ClusterPolicyPeer) -> str:
    if peer.namespaces is not None or peer.pods is not None:
        return _namespaced_text("namespaces", peer.namespaces, peer.pods)
    if peer.nodes is not None:
        return f"nodes {describe_selector(peer.nodes)}"
    if peer.networks:
        return f"networks {', '.join(peer.networks)}"
    if peer.domain_names:
        return f"domainNames {', '.join(peer.domain_names)}"
    return "(a peer stockade does not know: fails closed)"


def _cluster_port_text(port: ClusterPolicyPort) -> str:
    if port.name:
        return f"named port {port.name}"
    if port.first == port.last:
        return f"{port.protocol} {port.first}"
    if (port.first, port.last) == (1, 65535):
        return f"{port.protocol} (every port)"
    return f"{port.protocol} {port.first}-{port.last}"


def _cluster_policy(graph: ConnectionGraph, index: int,
                    policy: ClusterNetworkPolicy) -> dict[str, Any]:
    compiled = graph.engine.tiers.compiled[index]
    rules = []
    for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
        anyone = "any source" if direction is PolicyType.INGRESS else "any destination"
        for i, rule in enumerate(policy.rules(direction)):
            rules.append({"path": rule_path(direction, i), "name": rule.name,
                          "action": rule.action_text or rule.action.value,
                          "peers": [_cluster_peer_text(p) for p in rule.peers] or [anyone],
                          "ports": ([_cluster_port_text(p) for p in rule.ports]
                                    if rule.ports is not None else ["any port"])})
    subject = policy.subject
    return {"key": policy.key, "ns": "", "name": policy.name, "origin": str(policy.origin),
            "tier": policy.tier.value,
            "priority": policy.priority if policy.has_priority else None,
            "subject": _namespaced_text("namespaces", subject.namespaces, subject.pods),
            "subjects": compiled.subjects.members().tolist(), "rules": rules,
            "types": [], "ignored": []}


def _range(r: AddressRange) -> dict[str, Any]:
    return {"family": r.family, "address": str(r.address), "blocks": list(r.blocks)}


def _node(graph: ConnectionGraph, i: int) -> dict[str, Any]:
    node = graph.nodes[i]
    first = len(graph.engine.policies)  # cluster-wide policies follow the NetworkPolicies
    out: dict[str, Any] = {"name": node.name, "ns": node.namespace,
                           "in": list(node.isolated_ingress), "out": list(node.isolated_egress)}
    if node.tiered_ingress or node.tiered_egress:
        out["tieredIn"] = [first + k for k in node.tiered_ingress]
        out["tieredOut"] = [first + k for k in node.tiered_egress]
    if node.address_range is not None:
        out["range"] = _range(node.address_range)
        return out
    pod = node.representative.pod
    assert pod is not None
    out["members"] = list(node.members)
    out["labels"] = dict(pod.labels)
    out["ips"] = list(pod.ips)
    if node.host_network:
        out["host"] = True
    if pod.template_of:
        out["template"] = True
    return out


def _removed_node(group: RemovedGroup) -> dict[str, Any]:
    return {"name": group.name, "ns": group.namespace, "in": [], "out": [],
            "members": list(group.members), "labels": dict(group.labels),
            "ips": list(group.ips),
            "removed": {"in": list(group.isolated_ingress), "out": list(group.isolated_egress)}}


def _square(cells: npt.NDArray[np.int32], size: int, fill: int,
            rows: Sequence[int] = ()) -> npt.NDArray[np.int32]:
    """``cells`` grown to ``size`` x ``size``: the new rows and columns hold ``fill``
    against the old ``rows`` and each other, ``NOT_COMPUTED`` elsewhere."""
    n = len(cells)
    out = np.full((size, size), NOT_COMPUTED, dtype=np.int32)
    out[:n, :n] = cells
    index = np.array([*rows, *range(n, size)], dtype=np.int64)
    out[np.ix_(index[len(rows):], index)] = fill
    out[np.ix_(index, index[len(rows):])] = fill
    return out


def report_data(graph: ConnectionGraph, reasons: CellReasons, *, title: str,
                sources: Sequence[str] = (), notes: Sequence[str] = (),
                findings: Sequence[FindingLike] = (),
                changes: Mapping[tuple[int, int], CellChange] | None = None,
                diff: DiffPage | None = None) -> dict[str, Any]:
    """The page's data (see the module docstring); ``sources`` and ``notes`` are shown in
    the page's header and footer as given."""
    engine = graph.engine
    n = len(graph.nodes)
    removed = diff.removed if diff is not None else ()
    size = n + len(removed)
    namespaces: dict[str, None] = {}
    for node in graph.nodes:
        if node.namespace:
            namespaces.setdefault(node.namespace, None)
    table = reasons.table
    endpoints: dict[str, list[str]] = {}
    for node in graph.nodes:
        ep = node.representative
        endpoints[ep.name] = ([str(a) for a in pod_addresses(ep.pod)] if ep.pod is not None
                              else [ep.name])
        if ep.pod is not None and len(node.members) > 1:
            second = engine.pod(node.members[1])
            endpoints[second.key] = [str(a) for a in pod_addresses(second)]
    for a, b in reasons.pairs.values():
        for key in (a, b):
            endpoints.setdefault(key, [str(x) for x in pod_addresses(engine.pod(key))])
    texts = list(graph.texts)
    code = {t: i for i, t in enumerate(texts)}

    def text_code(text: str) -> int:
        found = code.get(text)
        if found is None:
            found = code[text] = len(texts)
            texts.append(text)
        return found

    cells, reason_cells = graph.cells, reasons.cells
    if removed:
        # The groups only the old side had open nothing now (pods), and are not compared
        # with the address ranges.
        pods = [i for i, node in enumerate(graph.nodes) if not node.is_address]
        cells = _square(cells, size, text_code("none"), pods)
        reason_cells = _square(reason_cells, size, NOT_COMPUTED)
    nodes = [_node(graph, i) for i in range(n)] + [_removed_node(g) for g in removed]
    for i in diff.added if diff is not None else ():
        nodes[i]["added"] = True
    data: dict[str, Any] = {
        "version": __version__,
        "title": title,
        "sources": list(sources),
        "notes": list(notes),
        "namespaces": [{"name": ns, "labels": dict(engine.namespaces[ns].labels),
                        "declared": engine.namespaces[ns].declared} for ns in namespaces],
        "nodes": nodes,
        "texts": texts,
        "levels": [],
        "cells": cells.ravel().tolist(),
        "policies": [*(_policy(graph, i, p) for i, p in enumerate(engine.policies)),
                     *(_cluster_policy(graph, k, p)
                       for k, p in enumerate(engine.cluster_policies))],
        "reasons": {
            "tokens": list(TOKENS),
            "lines": table.lines,
            "sides": [list(s) for s in table.sides],
            "allowing": [list(a) for a in table.allowing],
            "examples": [list(e) for e in table.examples],
            "sets": [list(s) for s in table.sets],
            "cells": reason_cells.ravel().tolist(),
            "pairs": {str(k): list(v) for k, v in reasons.pairs.items()},
            "endpoints": endpoints,
        },
        "nodeTraffic": graph.node_traffic,
        "findings": [_finding(f) for f in findings],
        "changes": None,
    }
    if changes is not None or diff is not None:
        # Only the changed cells: "cells" maps a cell's index (src * size + dst) to its
        # kind of change and its connection set before.
        kinds = list(EdgeChange)
        changed: dict[str, list[int]] = {}
        pairs: dict[str, list[int]] = {}
        cell_notes: dict[str, str] = {}
        for (src, dst), change in (changes or {}).items():
            at = str(src * size + dst)
            if change.change is not EdgeChange.SAME:
                changed[at] = [kinds.index(change.change), text_code(change.before)]
            if change.pairs:
                pairs[at] = list(change.pairs)
            if change.note:
                cell_notes[at] = change.note
        data["changes"] = {"kinds": [k.value for k in kinds], "cells": changed,
                           "pairs": pairs, "notes": cell_notes,
                           "summary": diff.summary if diff is not None else None}
    data["levels"] = [LEVELS.get(t, 1) for t in texts]
    return data


def _finding(f: FindingLike) -> dict[str, Any]:
    return {"check": f.check, "severity": str(f.severity), "kind": f.kind,
            "ns": f.namespace, "name": f.name, "path": f.path, "message": f.message,
            "hint": f.hint, "related": list(f.related)}


__all__ = ["CellChange", "DiffPage", "EdgeChange", "FindingLike", "RemovedGroup", "report_data"]
