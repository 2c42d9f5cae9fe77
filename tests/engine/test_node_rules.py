"""``NodeRules`` follows objects one change at a time and must always say what an engine
built from scratch over the same objects says: the rules of every pod of the node, their
peers, the pods' addresses and the node's own addresses."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import NAMESPACES, NODES, clusters, pods, policies

from stockade.engine import Engine
from stockade.engine.node_rules import DIRECTIONS, NodeRules, Touched
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Namespace, NetworkPolicy, Node, Origin, Pod, PolicyType

Manifest = dict[str, Any]
NODE = NODES[0]


def _ident(m: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = m["metadata"]
    return (m["kind"], meta.get("namespace", ""), meta["name"])


def _decode(m: Mapping[str, Any]) -> Any:
    result = build_cluster([RawObject(copy.deepcopy(dict(m)), Origin("gen", 1))])
    assert not result.findings, result.findings
    c = result.cluster
    found = [*c.pods, *c.policies, *c.nodes, *(n for n in c.namespaces if n.declared)]
    assert len(found) == 1
    return found[0]


def _engine(objects: Mapping[tuple[str, str, str], Manifest]) -> Engine:
    raws = [RawObject(copy.deepcopy(m), Origin("gen", i + 1))
            for i, m in enumerate(objects.values())]
    result = build_cluster(raws)
    assert not result.findings
    cluster = result.cluster
    # NodeRules orders a pod's policies by key; so does this engine.
    return Engine(dataclasses.replace(
        cluster, policies=tuple(sorted(cluster.policies, key=lambda p: p.key))))


def _change(rules: NodeRules, kind: str, namespace: str, name: str, obj: Any) -> Touched:
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
    assert obj is None or isinstance(obj, Node)
    return rules.set_node(name, obj)


def _agree(rules: NodeRules, objects: Mapping[tuple[str, str, str], Manifest]) -> None:
    engine = _engine(objects)
    local = {p.key for p in engine.pods if p.spec.node_name == NODE and not p.host_network}
    assert rules.local == local
    owners: dict[object, list[str]] = {}
    for pod in engine.pods:
        if not pod.host_network:
            for addr in engine._addresses[engine._by_key[pod.key]]:
                owners.setdefault(addr, []).append(pod.key)
    for index, pod in enumerate(engine.pods):
        if pod.key not in local:
            continue
        for direction in DIRECTIONS:
            want = engine.pod_rules(pod.key, direction)
            assert rules.pod_rules(pod.key, direction) == want, (pod.key, direction)
        assert rules.own_addresses(pod.key) == engine.nodes.own(index), pod.key
        if all(len(owners[a]) == 1 for a in engine._addresses[index]):
            assert rules.addresses(pod.key) == engine._addresses[index]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Manifest], list[tuple[str, Manifest | None,
                                                                   tuple[str, str, str]]]]:
    """A cluster, then a few changes: objects replaced by others of their kind (new labels,
    addresses, nodes, rules), deleted, or added."""
    start = draw(clusters(max_policies=4))
    steps: list[tuple[str, Manifest | None, tuple[str, str, str]]] = []
    spares = draw(pods(list(NAMESPACES), 4))
    for n in range(draw(st.integers(1, 6))):
        what = draw(st.sampled_from(("pod", "policy", "namespace", "delete", "node")))
        if what == "pod":
            m = spares[draw(st.integers(0, len(spares) - 1))]
            m = copy.deepcopy(m)
            m["metadata"]["name"] = draw(st.sampled_from(("p0", "p1", "p2", "new")))
            steps.append(("set", m, _ident(m)))
        elif what == "policy":
            m = draw(policies(list(NAMESPACES), draw(st.sampled_from(("pol0", "pol1", f"x{n}")))))
            steps.append(("set", m, _ident(m)))
        elif what == "namespace":
            labels = draw(st.fixed_dictionaries({}, optional={
                "env": st.sampled_from(("dev", "prod")), "team": st.sampled_from(("red",))}))
            m = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": draw(st.sampled_from(NAMESPACES)), "labels": labels}}
            steps.append(("set", m, _ident(m)))
        elif what == "node":
            m = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
                 "status": {"addresses": [{"type": "ExternalIP", "address": draw(
                     st.sampled_from(("192.0.2.9", "10.0.0.15")))}]}}
            steps.append(("set", m, _ident(m)))
        else:
            target = draw(st.sampled_from(sorted(_ident(m) for m in start)))
            steps.append(("delete", None, target))
    return start, steps


@settings(max_examples=300, deadline=None)
@given(histories())
def test_node_rules_agree_with_an_engine_after_every_change(
        history: tuple[list[Manifest], list[tuple[str, Manifest | None,
                                                   tuple[str, str, str]]]]) -> None:
    start, steps = history
    objects = {_ident(m): m for m in start}
    rules = NodeRules(NODE)
    decoded = [_decode(m) for m in objects.values()]
    rules.load([o for o in decoded if isinstance(o, Pod)],
               [o for o in decoded if isinstance(o, Namespace)],
               [o for o in decoded if isinstance(o, NetworkPolicy)],
               [o for o in decoded if isinstance(o, Node)])
    _agree(rules, objects)
    for action, manifest, ident in steps:
        if action == "delete":
            objects.pop(ident, None)
            _change(rules, *ident, None)
        else:
            assert manifest is not None
            objects[ident] = manifest
            _change(rules, *ident, _decode(manifest))
        _agree(rules, objects)


def test_changes_say_what_they_touched() -> None:
    ns = Namespace(_decode({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": "x", "labels": {"env": "prod"}}}).metadata)
    policy = _decode({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "db", "namespace": "x"},
                      "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                               "ingress": [{"from": [{"namespaceSelector": {
                                   "matchLabels": {"env": "prod"}}}]}]}})

    def pod(name: str, app: str, node: str, ip: str) -> Pod:
        found = _decode({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": "x", "labels": {"app": app}},
                         "spec": {"nodeName": node, "containers": [{"name": "c"}]},
                         "status": {"podIP": ip}})
        assert isinstance(found, Pod)
        return found

    rules = NodeRules("n1")
    rules.load([pod("db", "db", "n1", "10.0.0.1")], [ns], [policy], [])
    assert rules.pod_rules("x/db", PolicyType.INGRESS).rules[0].peers.pods == {"x/db"}
    # A pod elsewhere that the peer matches: a peer change only.
    touched = rules.set_pod("x/web", pod("web", "web", "n2", "10.0.0.2"))
    assert touched.peers == {"x/web"} and not touched.subjects
    assert rules.pod_rules("x/db", PolicyType.INGRESS).rules[0].peers.pods == {"x/db", "x/web"}
    # Its namespace loses the label: both pods leave the peer.
    touched = rules.set_namespace("x", Namespace(dataclasses.replace(ns.metadata, labels=())))
    assert touched.peers == {"x/db", "x/web"}
    assert rules.pod_rules("x/db", PolicyType.INGRESS).rules[0].peers.pods == frozenset()
    # The policy goes: the node's pod is no longer isolated.
    touched = rules.set_policy("x/db", None)
    assert touched.subjects == {"x/db"}
    assert not rules.pod_rules("x/db", PolicyType.INGRESS).isolated
    # A second pod takes the first one's address: the later one owns it.
    touched = rules.set_pod("x/other", pod("other", "web", "n1", "10.0.0.1"))
    assert rules.addresses("x/db") == () and len(rules.addresses("x/other")) == 1
    assert {"x/db", "x/other"} <= touched.peers and {"x/db", "x/other"} <= touched.subjects
    touched = rules.set_pod("x/other", None)
    assert len(rules.addresses("x/db")) == 1 and "x/db" in touched.peers
