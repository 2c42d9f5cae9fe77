"""Histories of API objects for the node agent's properties: a cluster, then changes one
object at a time, and helpers to replay them into ``NodeRules`` and into fresh engines."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from msgspec.structs import replace
from strategies import (
    NAMESPACES,
    NODE_LABELS,
    NODES,
    cluster_policies,
    clusters,
    pods,
    policies,
)

from stockade.engine import Engine
from stockade.engine.node_rules import NodeRules, Touched
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import (
    ClusterNetworkPolicy,
    Namespace,
    NetworkPolicy,
    Node,
    Origin,
    Pod,
)

Manifest = dict[str, Any]
Ident = tuple[str, str, str]
Step = tuple[str, Manifest | None, Ident]
NODE = NODES[0]


def ident(m: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = m["metadata"]
    return (m["kind"], meta.get("namespace", ""), meta["name"])


def decode(m: Mapping[str, Any]) -> Any:
    result = build_cluster([RawObject(copy.deepcopy(dict(m)), Origin("gen", 1))])
    assert not result.findings, result.findings
    c = result.cluster
    found = [*c.pods, *c.policies, *c.nodes, *(n for n in c.namespaces if n.declared),
             *c.cluster_policies]
    assert len(found) == 1
    return found[0]


def engine_over(objects: Mapping[tuple[str, str, str], Manifest]) -> Engine:
    raws = [RawObject(copy.deepcopy(m), Origin("gen", i + 1))
            for i, m in enumerate(objects.values())]
    result = build_cluster(raws)
    assert not result.findings
    cluster = result.cluster
    # NodeRules orders a pod's policies by key; so does this engine.
    return Engine(replace(
        cluster, policies=tuple(sorted(cluster.policies, key=lambda p: p.key))))


def change(rules: NodeRules, kind: str, namespace: str, name: str, obj: Any) -> Touched:
    key = f"{namespace}/{name}"
    if kind == "Pod":
        assert obj is None or isinstance(obj, Pod)
        return rules.set_pod(key, obj)
    if kind == "NetworkPolicy":
        assert obj is None or isinstance(obj, NetworkPolicy)
        return rules.set_policy(key, obj)
    if kind == "Namespace":
        assert obj is None or isinstance(obj, Namespace)
        return rules.set_namespace(name, obj)
    if kind in ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
        assert obj is None or isinstance(obj, ClusterNetworkPolicy)
        return rules.set_cluster_policy(f"{kind}/{name}", obj)
    assert obj is None or isinstance(obj, Node)
    return rules.set_node(name, obj)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Manifest], list[Step]]:
    """A cluster, then a few changes: objects replaced by others of their kind (new labels,
    addresses, nodes, rules), deleted, or added."""
    start = draw(clusters(max_policies=4, max_cluster_policies=2))
    steps: list[tuple[str, Manifest | None, tuple[str, str, str]]] = []
    spares = draw(pods(list(NAMESPACES), 4))
    for n in range(draw(st.integers(1, 6))):
        what = draw(st.sampled_from(("pod", "policy", "namespace", "delete", "node",
                                     "cluster")))
        if what == "pod":
            m = spares[draw(st.integers(0, len(spares) - 1))]
            m = copy.deepcopy(m)
            m["metadata"]["name"] = draw(st.sampled_from(("p0", "p1", "p2", "new")))
            steps.append(("set", m, ident(m)))
        elif what == "policy":
            m = draw(policies(list(NAMESPACES), draw(st.sampled_from(("pol0", "pol1", f"x{n}")))))
            steps.append(("set", m, ident(m)))
        elif what == "namespace":
            labels = draw(st.fixed_dictionaries({}, optional={
                "env": st.sampled_from(("dev", "prod")), "team": st.sampled_from(("red",))}))
            m = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": draw(st.sampled_from(NAMESPACES)), "labels": labels}}
            steps.append(("set", m, ident(m)))
        elif what == "node":
            labels = draw(st.fixed_dictionaries({}, optional={
                "pool": st.sampled_from(NODE_LABELS["pool"])}))
            m = {"apiVersion": "v1", "kind": "Node",
                 "metadata": {"name": draw(st.sampled_from(NODES)), "labels": labels},
                 "status": {"addresses": [{"type": "ExternalIP", "address": draw(
                     st.sampled_from(("192.0.2.9", "10.0.0.15")))}]}}
            steps.append(("set", m, ident(m)))
        elif what == "cluster":
            m = draw(cluster_policies(draw(st.sampled_from(("cnp0", "cnp1", "cnp9")))))
            steps.append(("set", m, ident(m)))
        else:
            target = draw(st.sampled_from(sorted(ident(m) for m in start)))
            steps.append(("delete", None, target))
    return start, steps


def load(rules: NodeRules, manifests: Mapping[Ident, Manifest]) -> Touched:
    decoded = [decode(m) for m in manifests.values()]
    return rules.load([o for o in decoded if isinstance(o, Pod)],
                      [o for o in decoded if isinstance(o, Namespace)],
                      [o for o in decoded if isinstance(o, NetworkPolicy)],
                      [o for o in decoded if isinstance(o, Node)],
                      [o for o in decoded if isinstance(o, ClusterNetworkPolicy)])


def replay(rules: NodeRules, objects: dict[Ident, Manifest], step: Step) -> Touched:
    """Apply one step to ``objects`` and to ``rules``."""
    action, manifest, key = step
    if action == "delete":
        objects.pop(key, None)
        return change(rules, *key, None)
    assert manifest is not None
    objects[key] = manifest
    return change(rules, *key, decode(manifest))
