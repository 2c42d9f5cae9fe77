"""A diff laid over the report of its new side (``stockade diff -o html``). Pure.

The page's nodes are the new side's groups (as ``report`` draws them). The diff's changed
pairs (joint groups, or pods with ``--pods`` and for node traffic) land in the cells of the
groups holding their pods: a cell is *gained* when every pair it holds could open nothing
before, *lost* when every pair can open nothing now, else *changed*. Groups only the old
side had (every pod of them removed) are added to the page as removed nodes, their former
connections to the groups of the pods they reached marked lost; groups only the new side
has (every pod added) are marked added, what they may open marked gained. Address ranges
are drawn as the new side has them: the diff compares pods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stockade.engine.attribution import Cause
from stockade.engine.classes import BehaviourClass
from stockade.engine.diff import Comparison
from stockade.engine.diff_result import ConnectionChange, DiffResult
from stockade.engine.engine import EGRESS, INGRESS
from stockade.engine.ports import MAX_PORT, MIN_PORT, parse_connections
from stockade.model.types import ClusterNetworkPolicy, NetworkPolicy, PolicyType, Protocol
from stockade.render.connections import ConnectionGraph
from stockade.render.diff import cause_json, cause_where
from stockade.render.groups import group_names
from stockade.render.html.overlays import CellChange, DiffPage, EdgeChange, RemovedGroup
from stockade.render.html.reasons import EXAMPLE_PORT

MAX_PAIRS = 10_000  # changed pairs the page details; the cells show every change
ALTERNATIVES = 3  # different "before" sets named in one cell's summary
CHECKED_PORTS = 3  # ports of a changed cell the page explains first


def _before(texts: Sequence[str]) -> str:
    distinct = sorted(set(texts))
    if len(distinct) <= ALTERNATIVES:
        return " or ".join(distinct)
    return " or ".join(distinct[:ALTERNATIVES]) + f" or {len(distinct) - ALTERNATIVES} more"


def _checked(changes: Sequence[ConnectionChange]) -> tuple[tuple[Protocol, int], ...]:
    """The ports the diff checked the changes on (its causes'), else the first port of what
    was gained or lost; a few."""
    found = [(c.protocol, c.port) for change in changes for c in change.because]
    for change in changes:
        for span in parse_connections(change.gained or change.lost)[:1]:
            whole = (span.first, span.last) == (MIN_PORT, MAX_PORT)
            found.append((span.protocol, EXAMPLE_PORT if whole else span.first))
    return tuple(dict.fromkeys(found))[:CHECKED_PORTS]


def _kind(befores: Sequence[str], afters: Sequence[str]) -> EdgeChange:
    if all(t == "none" for t in befores):
        return EdgeChange.GAINED
    if all(t == "none" for t in afters):
        return EdgeChange.LOST
    return EdgeChange.CHANGED


class _Builder:
    def __init__(self, graph: ConnectionGraph, cmp: Comparison, result: DiffResult) -> None:
        self.graph, self.cmp, self.result = graph, cmp, result
        self.node_of = {key: i for i, node in enumerate(graph.nodes) for key in node.members}
        self.causes: list[dict[str, Any]] = []
        self._cause_ids: dict[str, int] = {}
        self.pairs: list[dict[str, Any]] = []

    def cause(self, cause: Cause) -> int:
        """The number of a cause as the page shows it (the same words for many pairs are
        kept once; ``-o json`` has every field of every cause)."""
        full = cause_json(cause)
        shown = {"text": full["text"], "policy": full["policy"], "where": cause_where(cause),
                 "field": full["field"], "reasons": full["reasons"]}
        key = json.dumps(shown, sort_keys=True)
        found = self._cause_ids.get(key)
        if found is None:
            found = self._cause_ids[key] = len(self.causes)
            self.causes.append(shown)
        return found

    def members(self, name: str) -> tuple[str, ...]:
        return self.result.groups.get(name) or (name,)

    def changed_cells(self) -> dict[tuple[int, int], list[ConnectionChange]]:
        """The diff's changed pairs by the cell of the page that holds them."""
        cells: dict[tuple[int, int], list[ConnectionChange]] = {}
        for change in self.result.connections:
            src = self.node_of[self.members(change.source)[0]]
            dst = self.node_of[self.members(change.destination)[0]]
            cells.setdefault((src, dst), []).append(change)
        return cells

    def pair(self, change: ConnectionChange, cell: int) -> int | None:
        if len(self.pairs) >= MAX_PAIRS:
            return None
        self.pairs.append({
            "from": change.source, "to": change.destination, "before": change.before,
            "after": change.after, "gained": change.gained or "none",
            "lost": change.lost or "none", "nodeTraffic": change.node_traffic,
            "except": [list(pair) for pair in change.except_pairs],
            "because": [self.cause(c) for c in change.because], "cell": cell})
        return len(self.pairs) - 1


def _removed_groups(cmp: Comparison, owner: Mapping[str, str] | None
                    ) -> tuple[list[BehaviourClass], list[str]]:
    """The old side's classes every pod of which is gone, and their names."""
    gone = set(cmp.removed)
    old = cmp.old
    classes = [c for c in old.classes if all(old.pods[m].key in gone for m in c.members)]
    names = group_names(old.classes, old.pods, owner)
    return classes, [f"{names[c.index]} (removed)" for c in classes]


def _policy_keys(cmp: Comparison, cls: BehaviourClass,
                 direction: PolicyType) -> tuple[str, ...]:
    return tuple(cmp.old.policies[i].key for i in cmp.old.isolating[direction][cls.index])


def _where(policy: NetworkPolicy | ClusterNetworkPolicy, version: str) -> str:
    origin = policy.origin
    if origin.file == "<input>":
        return ""
    return ("old " if version == "old" else "") + str(origin)


def diff_page(graph: ConnectionGraph, cmp: Comparison, result: DiffResult, *,
              old_label: str, new_label: str, old_owner: Mapping[str, str] | None = None
              ) -> tuple[dict[tuple[int, int], CellChange], DiffPage]:
    """The cells that changed (over the page's nodes: the graph's, then the removed groups)
    and the rest of the page (see the module docstring). ``graph`` is the new side's
    connection graph; ``old_owner`` names the old side's groups as ``matrix`` would."""
    build = _Builder(graph, cmp, result)
    n = len(graph.nodes)
    removed, removed_names = _removed_groups(cmp, old_owner)
    size = n + len(removed)
    changes: dict[tuple[int, int], CellChange] = {}
    ports: dict[tuple[int, int], tuple[tuple[Protocol, int], ...]] = {}
    for (src, dst), found in build.changed_cells().items():
        ports[src, dst] = _checked(found)
        ids = [build.pair(c, src * size + dst) for c in found]
        changes[src, dst] = CellChange(_kind([c.before for c in found],
                                             [c.after for c in found]),
                                       _before([c.before for c in found]),
                                       tuple(i for i in ids if i is not None))
    pods = [i for i, node in enumerate(graph.nodes) if not node.is_address]
    added_keys = set(result.endpoints_added)
    added = tuple(i for i in pods if all(k in added_keys for k in graph.nodes[i].members))
    for a in added:
        for other in pods:
            for src, dst in ((a, other), (other, a)):
                text = graph.text(src, dst)
                if text != "none" and (src, dst) not in changes and (
                        src != dst or len(graph.nodes[a].members) > 1):
                    changes[src, dst] = CellChange(EdgeChange.GAINED, "none",
                                                   note="added: no pod of this group was "
                                                   "there before")
    _lost_connections(cmp, graph, removed, changes)
    old_pods = cmp.old.pods
    groups = tuple(RemovedGroup(
        name, cls.namespace, tuple(old_pods[m].key for m in cls.members), cls.labels,
        tuple(old_pods[cls.members[0]].ips), _policy_keys(cmp, cls, INGRESS),
        _policy_keys(cmp, cls, EGRESS)) for cls, name in zip(removed, removed_names,
                                                               strict=True))
    p = result.policies
    summary = {
        "old": old_label, "new": new_label, "changed": result.changed,
        "perPod": result.per_pod, "pairsCompared": result.pairs,
        "connections": len(result.connections), "pairs": build.pairs,
        "causes": build.causes,
        "endpoints": {"added": list(result.endpoints_added),
                      "removed": list(result.endpoints_removed)},
        "policies": {
            "added": [{"key": x.key, "where": _where(x, "new")} for x in p.added],
            "removed": [{"key": x.key, "where": _where(x, "old")} for x in p.removed],
            "modified": [{"key": new.key, "where": _where(new, "new")}
                         for _, new in p.modified]},
    }
    return changes, DiffPage(summary, groups, added, ports)


def _lost_connections(cmp: Comparison, graph: ConnectionGraph,
                      removed: Sequence[BehaviourClass],
                      changes: dict[tuple[int, int], CellChange]) -> None:
    """The removed groups' former connections: to and from each other and the groups of
    the new side whose pods were there before (with what those pods' old classes had)."""
    if not removed:
        return
    n = len(graph.nodes)
    old_index = {p.key: i for i, p in enumerate(cmp.old.pods)}
    # Per node of the page: the old classes its pods had (none for new pods).
    targets: list[tuple[int, list[int]]] = []
    for i, node in enumerate(graph.nodes):
        if node.is_address:
            continue
        classes = sorted({int(cmp.old.pod_class[old_index[k]]) for k in node.members
                          if k in old_index})
        if classes:
            targets.append((i, classes))
    targets += [(n + k, [cls.index]) for k, cls in enumerate(removed)]
    rows = cmp.old_rows
    note = "removed: only the old side has this group"
    for k, cls in enumerate(removed):
        g = np.array([cls.index], dtype=np.int64)
        for i, classes in targets:
            if i == n + k and len(cls.members) < 2:
                continue  # one pod and itself
            others = np.array(classes, dtype=np.int64)
            out = [rows.texts[int(x)] for x in rows.cells(g, others)[0]]
            into = [rows.texts[int(x)] for x in rows.cells(others, g)[:, 0]]
            for cell, texts in (((n + k, i), out), ((i, n + k), into)):
                if cell not in changes and any(t != "none" for t in texts):
                    changes[cell] = CellChange(EdgeChange.LOST, _before(texts), note=note)


__all__ = ["MAX_PAIRS", "diff_page"]
